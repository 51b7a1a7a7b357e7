"""Parse a Kafka broker URL (``kafka://h1:9092,h2:9092``) into its bootstrap servers.

Shared by the Kafka transports (``kafka://`` on kafka-python, ``kafka+confluent://`` on
librdkafka): one URL grammar, one set of messages, and no client library imported.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from streamctl.redact import mask_url
from streamctl.transport.exceptions import BadBrokerURL


def parse_servers(url: str, scheme: str = "kafka") -> list[str]:
    """``SCHEME://h1:9092,h2:9092`` -> ``["h1:9092", "h2:9092"]``; BadBrokerURL otherwise.

    Never echoes credentials: a URL with ``user:password@`` is refused without its text.
    """
    parts = urlsplit(url)
    if parts.scheme != scheme:
        raise BadBrokerURL(f"not a {scheme}:// URL: {mask_url(url)!r}")
    if "@" in parts.netloc:
        # never echo it: the part before @ is a user name and maybe a password
        raise BadBrokerURL(
            f"a {scheme}:// URL cannot carry credentials; give them as broker_settings "
            "(sasl_plain_username, sasl_plain_password: ${ENV_VAR})"
        )
    servers = [s.strip() for s in parts.netloc.split(",") if s.strip()]
    if not servers:
        raise BadBrokerURL(
            f"kafka URL {mask_url(url)!r} names no host:port (try {scheme}://localhost:9092)"
        )
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit():
            # the part after the colon is not echoed: a misplaced secret may sit there
            raise BadBrokerURL(
                f"kafka URL: server {host or server.split(':')[0]!r} needs host:PORT, "
                f"PORT a number (e.g. {scheme}://localhost:9092)"
            )
    return servers
