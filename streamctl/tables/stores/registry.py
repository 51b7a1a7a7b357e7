"""Map a store URL (``sqlite://``, ``memory://``) to its class, lazily imported.

Plugins add stores through the ``streamctl.stores`` entry point group, with
the same ``module:attr`` strings as the built-ins.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from streamctl import seams
from streamctl.exceptions import ConfigurationError
from streamctl.tables.stores.base import Store

DEFAULT = "sqlite://"

BUILTIN: dict[str, str] = {
    "sqlite": "streamctl.tables.stores.sqlite:SqliteStore",
    "memory": "streamctl.tables.stores.memory:MemoryStore",
}


def store_scheme(url: str) -> str:
    """``"sqlite"`` for ``sqlite://``, ``sqlite:`` or ``sqlite``."""
    return urlsplit(url).scheme or url.rstrip(":/")


def _target(scheme: str) -> str:
    found = seams.target("streamctl.stores", scheme, BUILTIN)
    if found is None:
        known = ", ".join(f"{name}://" for name in seams.names("streamctl.stores", BUILTIN))
        raise ConfigurationError(f"unknown table store {scheme!r} (known: {known})")
    return found


def check_store_url(url: str) -> None:
    """Raise ConfigurationError unless a store answers to ``url``'s scheme (its class is
    not imported)."""
    _target(store_scheme(url))


def store_class(url: str | None) -> type[Store]:
    """The Store subclass for ``url`` (None means the default, ``sqlite://``)."""
    scheme = store_scheme(url or DEFAULT)
    cls = seams.load_object(_target(scheme))
    if not (isinstance(cls, type) and issubclass(cls, Store)):
        raise ConfigurationError(f"table store {scheme!r} is not a Store subclass")
    return cls


def open_store(url: str | None, path: Path) -> Store:
    """Open the store for ``url`` at ``path`` (raises StoreCorrupt if it cannot be read)."""
    return store_class(url)(url or DEFAULT, path)
