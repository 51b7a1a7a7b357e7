"""``app.main()``: a Faust app's own command line (``python app.py worker -l info``).

Faust's subcommands that apply, each the streamctl command of the same job run on this
app (registered in :mod:`streamctl.cli.appsource` under ``module:attribute``):

- ``worker [options]``: ``streamctl run MODULE:APP [options]`` (``-l`` is ``--log-level``);
- ``send TOPIC|@AGENT VALUE [--key K]``: ``streamctl send ... -p MODULE:APP``;
- ``tables``: ``streamctl table list MODULE:APP -f table``;
- ``agents``, ``models``, ``model NAME``: what the app declares, as Faust lists it.
"""

from __future__ import annotations

import sys
from typing import Any

from streamctl.cli.appsource import registered
from streamctl.cli.output import Format, emit

USAGE = """usage: {prog} COMMAND [options]

Faust's commands for this app (streamctl's of the same job):
  worker [options]          run the worker (streamctl run {target}; -l LEVEL: log level)
  send TOPIC|@AGENT VALUE   send one JSON value (streamctl send ... -p {target})
  tables                    list the tables
  agents                    list the agents
  models                    list the models
  model NAME                show a model's fields
"""


def target_for(app: Any) -> str:
    """``module:attribute`` naming ``app`` (registered so commands find this very object)."""
    main = sys.modules.get("__main__")
    name = next((k for k, v in vars(main).items() if v is app), None) if main else None
    target = f"__main__:{name or 'app'}"
    registered[target] = app
    return target


def translate(app: Any, target: str, argv: list[str]) -> list[str] | None:
    """The streamctl command line for Faust's ``argv`` (None: handled here, or usage)."""
    command, rest = argv[0], argv[1:]
    if command == "worker":
        out = ["run", target]
        i = 0
        while i < len(rest):
            arg = rest[i]
            if arg in ("-l", "--loglevel") and i + 1 < len(rest):
                out += ["--log-level", rest[i + 1].lower()]
                i += 2
                continue
            out.append(arg)
            i += 1
        return out
    if command == "send":
        if rest and rest[0].startswith("@"):
            agent = app.agents.get(rest[0][1:])
            if agent is None:
                known = ", ".join(f"@{name}" for name in sorted(app.agents)) or "none"
                sys.stderr.write(f"error: no agent {rest[0][1:]!r} (agents: {known})\n")
                raise SystemExit(2)
            rest = [agent.channel.name, *rest[1:]]
        return ["send", *rest, "-p", target]
    if command == "tables":
        return ["table", "list", target, *(rest or ["-f", "table"])]
    return None


def main(app: Any, argv: list[str] | None = None) -> None:
    """Run Faust's command line for ``app``; exits with the command's exit code."""
    from streamctl.cli.main import main as streamctl_main

    argv = list(sys.argv[1:] if argv is None else argv)
    prog = sys.argv[0] if sys.argv else "app"
    target = target_for(app)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE.format(prog=prog, target=target))
        raise SystemExit(0)
    translated = translate(app, target, argv)
    if translated is not None:
        sys.argv = ["streamctl", *translated]
        streamctl_main()
        raise SystemExit(0)
    if argv[0] == "agents":
        rows = [
            {"name": a.name, "topic": a.channel.name, "help": (a.fun.__doc__ or "").strip()}
            for a in app.agents.values()
        ]
        emit(Format.table, rows, ["name", "topic", "help"])
    elif argv[0] in ("models", "model"):
        _models(argv[1:] if argv[0] == "model" else [])
    else:
        sys.stderr.write(
            f"error: no command {argv[0]!r}\n" + USAGE.format(prog=prog, target=target)
        )
        raise SystemExit(2)
    raise SystemExit(0)


def _models(names: list[str]) -> None:
    from streamctl.models import registry

    if not names:
        rows = [
            {"name": ns, "fields": ", ".join(getattr(m, "_field_names", ()))}
            for ns, m in sorted(registry.items())
            if not ns.startswith("streamctl.")
        ]
        emit(Format.table, rows, ["name", "fields"])
        return
    for name in names:
        found = [m for ns, m in registry.items() if ns == name or ns.endswith("." + name)]
        if not found:
            sys.stderr.write(f"error: no model {name!r} (see the models command)\n")
            raise SystemExit(2)
        model = found[0]
        fields = model._options.fields
        rows = [{"field": f, "type": getattr(t, "__name__", str(t))} for f, t in fields.items()]
        emit(Format.table, rows, ["field", "type"])
