"""Map a broker URL's scheme to its transport class, lazily imported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamctl import seams
from streamctl.redact import mask_url
from streamctl.transport.base import Transport
from streamctl.transport.exceptions import BadBrokerURL

BUILTIN: dict[str, str] = {
    "local": "streamctl.transport.local:LocalTransport",
    "kafka": "streamctl.transport.kafka:KafkaTransport",
    "memory": "streamctl.transport.memory:MemoryTransport",
    # optional: pip install 'streamctl[confluent]' (librdkafka through confluent-kafka)
    "kafka+confluent": "streamctl.transport.confluent:ConfluentTransport",
}
#: the optional dependency (``pip install 'streamctl[EXTRA]'``) a built-in scheme needs
_EXTRAS = {"kafka+confluent": "confluent"}


def _target(scheme: str) -> str:
    found = seams.target("streamctl.transports", scheme, BUILTIN)
    if found is None:
        known = ", ".join(seams.names("streamctl.transports", BUILTIN))
        raise BadBrokerURL(f"unknown broker scheme {mask_url(scheme)!r} (known: {known})")
    return found


def transport_class(url: str) -> type[Transport]:
    """The transport class for ``url``'s scheme (imported, not opened). Raises
    BadBrokerURL for an unknown or malformed one, and for one whose package is not
    installed (``kafka+confluent://`` without ``streamctl[confluent]``)."""
    try:
        scheme = urlsplit(url).scheme or url.rstrip(":/")
    except ValueError as exc:  # "Invalid IPv6 URL", ...
        raise BadBrokerURL(f"broker URL {mask_url(url)!r} is malformed ({exc})") from None
    if not scheme:
        raise BadBrokerURL(
            f"broker URL {mask_url(url)!r} has no scheme (try local:// or kafka://host:9092)"
        )
    target = _target(scheme)
    try:
        cls: type[Transport] = seams.load_object(target)
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get(scheme)
        how = f"pip install 'streamctl[{extra}]'" if extra else f"install the package {exc.name!r}"
        raise BadBrokerURL(
            f"broker scheme {mask_url(scheme)!r} needs the Python package {exc.name!r}, which "
            f"is not installed: {how}"
        ) from None
    return cls


def open_transport(url: str, *, datadir: str | Path, **settings: Any) -> Transport:
    """Open the transport for ``url`` (``local://``, ``kafka://host:9092``, ``memory://``)."""
    cls: Callable[..., Transport] = transport_class(url)
    return cls(url, datadir=Path(datadir), **settings)
