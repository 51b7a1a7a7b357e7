"""``streamctl worker -A package.module:app``: Faust's ``faust -A app worker``.

The same command as ``streamctl run package.module:app`` (the same worker, options and
status line as a pipeline file): ``-A``/``--app`` names the app and ``-l``/``--loglevel``
is Faust's spelling of ``--log-level``; every other option goes to ``run`` unchanged.
"""

from __future__ import annotations

from typing import Any

import typer

CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}


def forward(ctx: Any, command: str, args: list[str]) -> None:
    """Run the root command's ``command`` with ``args`` in this invocation."""
    root = ctx.find_root()
    group: Any = root.command
    sub = group.get_command(root, command)
    assert sub is not None
    with sub.make_context(command, list(args), parent=root) as sub_ctx:
        sub.invoke(sub_ctx)


def worker(
    ctx: typer.Context,
    target: str = typer.Option(
        ...,
        "--app",
        "-A",
        help="The app: package.module:attribute (package.module alone: its 'app').",
        metavar="MODULE:APP",
    ),
    loglevel: str = typer.Option(
        None, "--loglevel", "-l", help="Faust's name for --log-level.", metavar="LEVEL"
    ),
) -> None:
    """Run a Python app's worker, as 'faust -A app worker' does; every option of
    'streamctl run' (--until-idle, --broker, --data-dir, ...) applies.

    Example: streamctl worker -A shop.app:app --until-idle
    """
    args = [target, *ctx.args]
    if loglevel:
        args += ["--log-level", loglevel.lower()]
    forward(ctx, "run", args)
