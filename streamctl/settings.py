"""App settings: one place for every knob, with their defaults and environment overrides."""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.faustsettings import ALIASES, NOT_APPLICABLE, not_applicable, store_url, warn_once

GUARANTEES = ("at_least_once", "exactly_once")


def default_datadir() -> Path:
    """``$STREAMCTL_DATADIR`` or ``./.streamctl``: shared by every app run from this directory,
    so that apps on the embedded broker see each other's topics."""
    return Path(os.environ.get("STREAMCTL_DATADIR", ".streamctl"))


def _number(name: str, value: Any, kind: type, minimum: float) -> Any:
    """``value`` as an int or float of at least ``minimum``, else a ConfigurationError."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and kind is int and not float(value).is_integer():
        ok = False
    if not ok or value < minimum:
        what = "a whole number" if kind is int else "a number"
        raise ConfigurationError(f"setting {name} must be {what} >= {minimum:g}, not {value!r}")
    return kind(value)


def default_guarantee(broker: str) -> str:
    """The processing guarantee a broker gets when none is set: ``exactly_once`` on the
    embedded broker (``local://``), ``at_least_once`` elsewhere (as Kafka Streams)."""
    return "exactly_once" if broker.startswith("local:") else "at_least_once"


@dataclass
class Settings:
    id: str
    broker: str = "local://"
    datadir: Path = field(default_factory=default_datadir)
    table_store: str = "sqlite://"
    topic_partitions: int = 1
    #: ``exactly_once`` or ``at_least_once``; empty: the broker's default, exactly_once on
    #: the embedded broker (one SQLite transaction per commit, no slower than at-least-once)
    #: and at_least_once on Kafka and memory://
    processing_guarantee: str = ""
    #: most records handled per poll (one batch)
    max_poll_records: int = 5000
    #: seconds between commits (Kafka Streams' commit.interval.ms, Faust's commit_interval):
    #: table writes coalesce and commit round trips are paid once per interval; a crash
    #: replays at most this much. 0 commits after every batch.
    commit_interval: float = 0.5
    #: how long an idle poll waits for new records, in seconds
    poll_timeout: float = 0.2
    #: how many other workers of the group keep a warm copy (a standby replica) of each
    #: table partition by following its changelog (Faust's ``table_standby_replicas``,
    #: Kafka Streams' ``num.standby.replicas``): a rebalance that hands a worker one of
    #: its standbys resumes from the standby's offset instead of rebuilding. Faust's
    #: default, 1, does nothing with a single worker; 0 turns standbys off.
    table_standby_replicas: int = 1
    broker_settings: dict[str, Any] = field(default_factory=dict)
    #: seconds a starting worker retries an unreachable broker before giving up
    broker_start_timeout: float = 60.0
    #: seconds a running worker waits for a broker that went away before giving up
    broker_wait_timeout: float = 300.0
    #: this worker's stable identity (exactly-once: its transactional id); default:
    #: host name plus a digest of the data dir, so a restarted worker fences its old self
    worker_id: str | None = None
    #: the port ``streamctl run`` serves Prometheus metrics and the web view on (None:
    #: not served; 0: any free port); ``--metrics-port`` overrides it
    metrics_port: int | None = None
    #: the address that server binds: the loopback interface unless set otherwise
    #: (``0.0.0.0`` serves every interface; the server has no write endpoints)
    web_host: str = "127.0.0.1"
    #: the address the control channel of ``streamctl table`` against a running worker
    #: binds (a free port), and announces in the consumer group on Kafka, so the table
    #: commands on other machines reach it: the loopback interface unless set otherwise
    #: (a wildcard such as ``0.0.0.0`` announces the host name)
    control_host: str = "127.0.0.1"
    #: windowed tables: a quiet partition's stream time follows the wall clock, so its
    #: windows still close (#11)
    window_wall_clock: bool = True
    #: seconds between wall-clock punctuations of windowed tables (#11)
    window_punctuate_interval: float = 1.0
    #: Faust's app-wide serializers: the codec of every topic's keys / values that does
    #: not name its own (None: raw keys, and JSON values or the model's serializer)
    key_serializer: str | None = None
    value_serializer: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a setting, also under its Faust name (``conf.store = "memory://"``); a
        Faust setting that does not apply, or an unknown name, is warned about once.
        A new ``table_store`` re-points the tables not opened yet (see ``on_change``)."""
        name = ALIASES.get(name, name)
        if name not in _FIELDS and not name.startswith("_"):
            if name in NOT_APPLICABLE:
                not_applicable(name)
            else:
                warn_once(name, f"unknown setting {name!r} assigned on app.conf: nothing reads it")
        if name == "table_store":
            value = store_url(value)
        object.__setattr__(self, name, value)
        hook = self.__dict__.get("_on_change")
        if hook is not None:
            hook(name, value)

    def __getattr__(self, name: str) -> Any:
        # only called for names not found: Faust's names for streamctl's settings
        if name in ALIASES:
            return getattr(self, ALIASES[name])
        raise AttributeError(f"no setting {name!r}")

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ConfigurationError("an app needs a non-empty string id")
        self.datadir = Path(self.datadir)
        for name, optional in (("broker", False), ("table_store", False), ("worker_id", True)):
            value = getattr(self, name)
            if not (isinstance(value, str) or (optional and value is None)):
                raise ConfigurationError(
                    f"setting {name} must be a string, not {type(value).__name__} {value!r}"
                )
        if self.metrics_port is not None:
            self.metrics_port = _number("metrics_port", self.metrics_port, int, 0)
            if self.metrics_port > 65535:
                raise ConfigurationError(
                    f"setting metrics_port must be a port number (0-65535), not {self.metrics_port}"
                )
        for name in ("web_host", "control_host"):
            host = getattr(self, name)
            if not isinstance(host, str) or not host:
                raise ConfigurationError(
                    f"setting {name} must be a host name or address, not {host!r}"
                )
        if self.processing_guarantee in ("", None):
            self.processing_guarantee = default_guarantee(self.broker)
        if self.processing_guarantee not in GUARANTEES:
            raise ConfigurationError(
                f"processing_guarantee must be one of {', '.join(GUARANTEES)}, "
                f"not {self.processing_guarantee!r}"
            )
        self.max_poll_records = _number("max_poll_records", self.max_poll_records, int, 1)
        self.topic_partitions = _number("topic_partitions", self.topic_partitions, int, 1)
        self.table_standby_replicas = _number(
            "table_standby_replicas", self.table_standby_replicas, int, 0
        )
        for name in (
            "commit_interval",
            "poll_timeout",
            "broker_start_timeout",
            "broker_wait_timeout",
            "window_punctuate_interval",
        ):
            setattr(self, name, _number(name, getattr(self, name), float, 0))
        if not isinstance(self.window_wall_clock, bool):
            raise ConfigurationError(
                f"setting window_wall_clock must be true or false, not {self.window_wall_clock!r}"
            )

    @property
    def exactly_once(self) -> bool:
        return self.processing_guarantee == "exactly_once"

    @property
    def reads_last_stable_offset(self) -> bool:
        """Exactly-once on Kafka: a changelog's end is its last stable offset, which a dead
        worker's open transaction holds back, so a store may be ahead of it (and is trusted).
        On the embedded broker a transaction commits in one SQLite transaction: never."""
        return self.exactly_once and self.broker.startswith(("kafka:", "kafka+"))

    @property
    def transactional_id(self) -> str:
        """``streamctl-<app>-<worker_id>``: one per worker, the same after a restart."""
        worker = self.worker_id
        if not worker:
            digest = hashlib.sha1(str(self.datadir.resolve()).encode()).hexdigest()[:10]
            worker = f"{socket.gethostname()}-{digest}"
        return f"streamctl-{self.id}-{worker}"


_FIELDS = frozenset(f.name for f in fields(Settings))


def faust_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``App(**settings)`` keywords as Settings takes them: Faust's names mapped to
    streamctl's, Faust settings that do not apply dropped with a warning (once per name).
    Raises ConfigurationError naming a setting neither knows."""
    out: dict[str, Any] = {}
    for name, value in settings.items():
        name = ALIASES.get(name, name)
        if name in _FIELDS:
            out[name] = value
        elif name in NOT_APPLICABLE:
            not_applicable(name)
        else:
            raise ConfigurationError(
                f"unknown setting {name!r} (settings: {', '.join(sorted(_FIELDS - {'id'}))})"
            )
    return out


def check_settings(values: dict[str, Any]) -> dict[str, str]:
    """Every bad setting among ``values`` at once: name -> the one-line reason.

    Each setting is checked on its own by the same rules ``Settings`` applies, so one
    bad value never hides another; an unknown name is reported as unknown.
    """
    known = {f.name for f in fields(Settings)} - {"id", "broker", "datadir", "broker_settings"}
    bad: dict[str, str] = {}
    for name, value in values.items():
        if name not in known:
            bad[name] = f"unknown setting {name!r}"
            continue
        try:
            Settings(id="check", **{name: value})
        except ConfigurationError as exc:
            bad[name] = str(exc)
    return bad
