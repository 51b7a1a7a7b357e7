"""Secrets among settings: which setting names hold them (one list), and a log filter.

Used by the Kafka transport (its settings' secret values, for redaction) and by
the CLI (a secret ``--broker-setting`` is taken verbatim and masked in every log
line). A setting is secret when its name is one of :data:`SECRET_SETTINGS` or
contains one of :data:`SECRET_HINTS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

#: settings whose values are secrets though their names give no hint (kafka-python's)
SECRET_SETTINGS = frozenset(
    {"sasl_plain_password", "ssl_password", "sasl_oauth_token_provider", "ssl_context"}
)
#: a setting whose name contains one of these (any case) holds a secret
SECRET_HINTS = ("password", "secret", "token", "credential")


def is_secret(name: str) -> bool:
    """Whether the setting ``name`` holds a secret (kept out of logs, errors and reprs)."""
    if name in SECRET_SETTINGS:
        return True
    lowered = name.lower()
    return any(hint in lowered for hint in SECRET_HINTS)


def mask_url(url: str) -> str:
    """``url`` with any ``user:password@`` part masked (``kafka://***@host:9092``), for
    messages that quote a broker URL: a malformed one may still carry credentials."""
    if "@" not in url:
        return url
    head, _, host = url.rpartition("@")
    scheme, sep, _ = head.partition("://")
    return f"{scheme}{sep}***@{host}" if sep else f"***@{host}"


def secret_values(settings: Mapping[str, Any]) -> list[str]:
    """The non-empty values of the secret settings, as strings, in ``settings``' order."""
    return [str(v) for k, v in settings.items() if is_secret(k) and v]


class Redact(logging.Filter):
    """Replaces secret values in log records with ``***`` (the longest first), also as
    ``repr`` shows them (a client's configuration dict logged with ``%s``)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these secrets too."""
        known = set(self.secrets)
        for secret in secrets:
            if secret:
                known |= {secret, repr(secret)[1:-1]}
        self.secrets = sorted(known, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


#: one filter per logger prefix, shared by every logger under it
_LOGGER_FILTERS: dict[str, Redact] = {}


def redact_loggers(prefix: str, secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in every record logged under ``prefix`` (``"kafka"``), whatever
    handlers the application has: the filter sits on the loggers themselves (a logger's
    own filters run on each record it creates). Call it again after new loggers appear;
    it is idempotent."""
    wanted = [s for s in secrets if s]
    if not wanted:
        return
    redact = _LOGGER_FILTERS.get(prefix)
    if redact is None:
        redact = _LOGGER_FILTERS[prefix] = Redact(())
    redact.add(wanted)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        under = name == prefix or name.startswith(prefix + ".")
        if under and isinstance(logger, logging.Logger) and redact not in logger.filters:
            logger.addFilter(redact)
