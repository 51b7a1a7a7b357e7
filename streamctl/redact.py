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


def secret_values(settings: Mapping[str, Any]) -> list[str]:
    """The non-empty values of the secret settings, as strings, in ``settings``' order."""
    return [str(v) for k, v in settings.items() if is_secret(k) and v]


class Redact(logging.Filter):
    """Replaces secret values in log records with ``***`` (the longest first)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
