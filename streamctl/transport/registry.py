"""Map a broker URL's scheme to its transport class, lazily imported."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamctl.transport.base import Transport
from streamctl.transport.exceptions import BadBrokerURL

BUILTIN: dict[str, str] = {
    "local": "streamctl.transport.local:LocalTransport",
    "kafka": "streamctl.transport.kafka:KafkaTransport",
}


def _target(scheme: str) -> str:
    if scheme in BUILTIN:
        return BUILTIN[scheme]
    for ep in entry_points(group="streamctl.transports"):
        if ep.name == scheme:
            return ep.value
    known = ", ".join(sorted(BUILTIN))
    raise BadBrokerURL(f"unknown broker scheme {scheme!r} (known: {known})")


def load_object(target: str) -> Any:
    """Import ``module:attr`` and return the attribute."""
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def open_transport(url: str, *, datadir: str | Path, **settings: Any) -> Transport:
    """Open the transport for ``url`` (``local://``, ``kafka://host:9092``)."""
    scheme = urlsplit(url).scheme or url.rstrip(":/")
    if not scheme:
        raise BadBrokerURL(f"broker URL {url!r} has no scheme (try local:// or kafka://host:9092)")
    cls = load_object(_target(scheme))
    return cls(url, datadir=Path(datadir), **settings)
