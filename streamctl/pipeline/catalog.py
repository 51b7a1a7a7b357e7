"""What is installed: built-in and plugin agents, steps, codecs, transports and stores (``streamctl plugins``).

Every seam resolves names through :mod:`streamctl.seams` (built-ins first, then the
``streamctl.<seam>`` entry points); this lists them all with the package that
provides each, its version, and the first line of its docstring. Listing imports
each one to read its docstring; one that does not import is listed with the reason.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass

from streamctl import seams

#: seam kind -> its entry point group
GROUPS = {
    "agent": "streamctl.agents",
    "step": "streamctl.steps",
    "codec": "streamctl.codecs",
    "transport": "streamctl.transports",
    "store": "streamctl.stores",
}


@dataclass
class Installed:
    kind: str
    name: str
    target: str
    package: str
    version: str
    doc: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _builtins(kind: str) -> dict[str, str]:
    if kind == "agent":
        from streamctl.pipeline.plugins import BUILTIN_AGENTS

        return BUILTIN_AGENTS
    if kind == "step":
        from streamctl.pipeline.steps import BUILTIN_STEPS

        return BUILTIN_STEPS
    if kind == "codec":
        from streamctl.models import codecs

        made = {n: f"{type(c).__module__}:{type(c).__qualname__}" for n, c in codecs.CODECS.items()}
        return {**made, **codecs._LAZY}
    if kind == "transport":
        from streamctl.transport.registry import BUILTIN as TRANSPORTS

        return TRANSPORTS
    from streamctl.tables.stores.registry import BUILTIN as STORES

    return STORES


def summary(doc: str | None, most: int = 120) -> str:
    """The first sentence of a docstring's first paragraph, on one line (``x`` for
    ````x````), at most ``most`` characters."""
    paragraph = inspect.cleandoc(doc or "").split("\n\n")[0]
    text = " ".join(paragraph.split()).replace("``", "`")
    end = text.find(". ")
    if end != -1:
        text = text[: end + 1]
    return text if len(text) <= most else text[: most - 3].rstrip() + "..."


def _doc(target: str) -> str:
    try:
        obj = seams.load_object(target)
    except Exception as exc:  # a plugin that does not import is listed, not fatal
        return f"(cannot import: {type(exc).__name__}: {exc})"
    return summary(inspect.getdoc(obj if inspect.isclass(obj) or callable(obj) else type(obj)))


def installed(kinds: list[str] | None = None) -> list[Installed]:
    """Everything registered for ``kinds`` (default: all of GROUPS), by kind then name."""
    from streamctl import __version__

    out: list[Installed] = []
    for kind in kinds or list(GROUPS):
        for name, target, dist in seams.registered(GROUPS[kind], _builtins(kind)):
            package = "streamctl" if dist is None else dist.metadata["Name"]
            version = __version__ if dist is None else dist.version
            out.append(Installed(kind, name, target, package, version, _doc(target)))
    return out
