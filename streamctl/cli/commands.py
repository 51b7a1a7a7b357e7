"""The Typer command tree: ``streamctl`` and its sub-commands (see :mod:`streamctl.cli.main`)."""

from __future__ import annotations

import typer

from streamctl import __version__
from streamctl.cli import groups as group_cmds
from streamctl.cli import run as run_cmd
from streamctl.cli import schema as schema_cmds
from streamctl.cli import send as send_cmd
from streamctl.cli import tables as table_cmds
from streamctl.cli import testcmd, tooling
from streamctl.cli import topic_admin as topic_admin_cmds
from streamctl.cli import topics as topic_cmds
from streamctl.cli import validate as validate_cmd
from streamctl.cli import worker as worker_cmd
from streamctl.cli.common import Group, out

app = typer.Typer(
    cls=Group,
    name="streamctl",
    help="Faust-style stream processing from YAML pipeline files.\n\n"
    "Example: streamctl run pipelines/quickstart.yaml --until-idle",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # --install-completion / --show-completion for bash, zsh, fish, PowerShell (#13)
    add_completion=True,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"streamctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Faust-style stream processing from YAML pipeline files."""


app.command("run")(run_cmd.run)
app.command("send")(send_cmd.send)
app.command("validate")(validate_cmd.validate)
app.command("test")(testcmd.test)
app.command("init")(tooling.init)
app.command("plugins")(tooling.plugins)
app.command("echo")(tooling.echo)
app.command("worker", context_settings=worker_cmd.CONTEXT)(worker_cmd.worker)
topic_cmds.topic_app.command("create")(topic_admin_cmds.create)
topic_cmds.topic_app.command("delete")(topic_admin_cmds.delete)
app.add_typer(topic_cmds.topic_app, name="topic")
app.add_typer(schema_cmds.schema_app, name="schema")
app.add_typer(table_cmds.table_app, name="table")
app.add_typer(group_cmds.group_app, name="group")
