"""App settings: one place for every knob, with their defaults and environment overrides."""

from __future__ import annotations

import difflib
import hashlib
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError, yaml_repr
from streamctl.faustsettings import (
    ALIASES,
    FAUST_NUMBERS,
    NOT_APPLICABLE,
    not_applicable,
    store_url,
    warn_once,
)

GUARANTEES = ("at_least_once", "exactly_once")


def default_datadir() -> Path:
    """``$STREAMCTL_DATADIR`` or ``./.streamctl``: shared by every app run from this directory,
    so that apps on the embedded broker see each other's topics."""
    return Path(os.environ.get("STREAMCTL_DATADIR", ".streamctl"))


def default_guarantee(broker: str) -> str:
    """The processing guarantee a broker gets when none is set: ``exactly_once`` on the
    embedded broker (``local://``), ``at_least_once`` elsewhere (as Kafka Streams)."""
    return "exactly_once" if broker.startswith("local:") else "at_least_once"


# -- checks: one rule per setting, run by App(...), by Settings(...) and on every
# assignment to app.conf, so a bad value is refused where it is written ------------------


#: the largest value of a Kafka ``int`` setting (Kafka Streams' num.standby.replicas is
#: one: ConfigDef's Type.INT, a Java int)
INT32_MAX = 2**31 - 1


def _what(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def number(label: str, value: Any, kind: type, minimum: float | None, maximum: float = 0) -> Any:
    """``value`` as an int (``kind=int``) or float of at least ``minimum`` (None: any) and
    at most ``maximum`` (0: no bound). A float setting is a number of seconds and also
    takes a ``timedelta``, as Faust's ``Seconds`` settings do. Raises ConfigurationError
    naming the setting as ``label``."""
    if kind is float and isinstance(value, timedelta):
        value = value.total_seconds()
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if ok and kind is int and not float(value).is_integer():
        ok = False
    if ok and (minimum is None or value >= minimum) and (not maximum or value <= maximum):
        return kind(value)
    what = "a whole number" if kind is int else "a number of seconds"
    if minimum is not None:
        what += f" >= {minimum:g}" if not maximum else f" from {minimum:g} to {maximum:.0f}"
    raise ConfigurationError(f"setting {label} must be {what}, not {yaml_repr(value)}")


def _text(optional: bool = False) -> Callable[..., Any]:
    def check(label: str, value: Any, conf: Any) -> Any:
        if isinstance(value, str) or (optional and value is None):
            return value
        raise ConfigurationError(
            f"setting {label} must be text (a str){' or None' if optional else ''}, "
            f"not {_what(value)}"
        )

    return check


def _num(kind: type, minimum: float | None, maximum: float = 0) -> Callable[..., Any]:
    return lambda label, value, conf: number(label, value, kind, minimum, maximum)


def _id(label: str, value: Any, conf: Any) -> Any:
    if not value or not isinstance(value, str):
        raise ConfigurationError(f"an app needs a non-empty string id, not {_what(value)}")
    return value


def _datadir(label: str, value: Any, conf: Any) -> Path:
    if isinstance(value, (str, os.PathLike)) and str(value):
        return Path(value)
    raise ConfigurationError(
        f"setting {label} must be a directory path (a str or pathlib.Path), not {_what(value)}"
    )


def _store(label: str, value: Any, conf: Any) -> Any:
    if not isinstance(value, str):
        raise ConfigurationError(
            f"setting {label} must be a store URL such as 'sqlite://' or 'memory://', "
            f"not {_what(value)}"
        )
    return store_url(value)


def _guarantee(label: str, value: Any, conf: Any) -> str:
    if value in ("", None):
        return default_guarantee(conf.broker)
    if value not in GUARANTEES:
        raise ConfigurationError(
            f"setting {label} must be one of {', '.join(GUARANTEES)}, not {yaml_repr(value)}"
        )
    return str(value)


def _serializer(label: str, value: Any, conf: Any) -> Any:
    # a codec name, or a codec object (it encodes and decodes); which names exist is the
    # models' registry's business (the App checks the name when it is set)
    if (
        value is None
        or isinstance(value, str)
        or (callable(getattr(value, "dumps", None)) and callable(getattr(value, "loads", None)))
    ):
        return value
    raise ConfigurationError(
        f"setting {label} must be a codec name (such as 'json', 'raw' or 'binary') or a "
        f"codec object, not {_what(value)}"
    )


def _host(label: str, value: Any, conf: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"setting {label} must be a host name or address, not {yaml_repr(value)}"
        )
    return value


def _flag(label: str, value: Any, conf: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"setting {label} must be true or false, not {_what(value)}")
    return value


def _mapping(label: str, value: Any, conf: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"setting {label} must be a mapping, not {_what(value)}")
    return dict(value)


def _port(label: str, value: Any, conf: Any) -> int | None:
    return None if value is None else number(label, value, int, 0, 65535)


_SECONDS = _num(float, 0)

#: setting -> its check ``(label, value, conf) -> the value to keep``; ``label`` is the
#: name the user wrote (``broker_commit_interval`` for ``commit_interval``)
CHECKS: dict[str, Callable[[str, Any, Any], Any]] = {
    "id": _id,
    "broker": _text(),
    "datadir": _datadir,
    "table_store": _store,
    "topic_partitions": _num(int, 1),
    "processing_guarantee": _guarantee,
    "max_poll_records": _num(int, 1),
    "commit_interval": _SECONDS,
    "poll_timeout": _SECONDS,
    "table_standby_replicas": _num(int, 0, INT32_MAX),
    "broker_settings": _mapping,
    "broker_start_timeout": _SECONDS,
    "broker_wait_timeout": _SECONDS,
    "worker_id": _text(optional=True),
    "metrics_port": _port,
    "web_host": _host,
    "control_host": _host,
    "window_wall_clock": _flag,
    "window_close_on_idle": _flag,
    "window_punctuate_interval": _SECONDS,
    "key_serializer": _serializer,
    "value_serializer": _serializer,
}


def check_value(conf: Any, name: str, value: Any, label: str | None = None) -> Any:
    """``value`` as setting ``name`` keeps it (a timedelta becomes seconds, a path a
    Path), or ConfigurationError naming the setting as ``label`` (default ``name``)."""
    return CHECKS[name](label or name, value, conf)


def faust_value(name: str, value: Any) -> Any:
    """A Faust setting that does not apply here, checked by Faust's rule for it where it
    has one (``broker_commit_every`` is a whole number >= 0, ...: ``FAUST_NUMBERS``)."""
    rule = FAUST_NUMBERS.get(name)
    if rule is None or value is None:  # None: Faust's default
        return value
    if isinstance(value, str):  # Faust converts text (from the environment) too
        try:
            value = rule[0](value)
        except ValueError:
            pass
    return number(name, value, *rule)


@dataclass
class Settings:
    """An app's settings (``app.conf``): streamctl's names, Faust's as aliases. Every
    value is checked when it is set, at construction and on assignment alike (one rule
    per setting: :data:`CHECKS`); a bad one raises ConfigurationError naming it."""

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
    #: windowed tables: ``until_idle`` closes the windows still open once the input is
    #: drained (the end of bounded input, as Flink's final watermark) (#11)
    window_close_on_idle: bool = True
    #: Faust's app-wide serializers: the codec of every topic's keys / values that does
    #: not name its own (None: raw keys, and JSON values or the model's serializer)
    key_serializer: str | None = None
    value_serializer: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a setting, also under its Faust name (``conf.store = "memory://"``), checked
        as ``App(...)`` checks it: ConfigurationError naming the setting as written
        (:func:`check_value`). A Faust setting that does not apply is checked by Faust's
        rule for it and warned about once; an unknown name is warned about once.
        A new ``table_store`` re-points the tables not opened yet (see ``on_change``)."""
        field_name = ALIASES.get(name, name)
        if field_name in _FIELDS:
            value = check_value(self, field_name, value, name)
        elif name in NOT_APPLICABLE:
            value = faust_value(name, value)
            not_applicable(name)
        elif not name.startswith("_"):
            warn_once(name, f"unknown setting {name!r} assigned on app.conf: nothing reads it")
        hook = self.__dict__.get("_on_change")
        if hook is not None:
            hook(field_name, value, name)  # before it is set: the app may refuse it
        object.__setattr__(self, field_name, value)

    def __getattr__(self, name: str) -> Any:
        # only called for names not found: Faust's names for streamctl's settings
        if name in ALIASES:
            return getattr(self, ALIASES[name])
        raise AttributeError(f"no setting {name!r}")

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Apply ``App(**settings)``: each as if assigned on ``conf`` (same checks and
        warnings), except that a name neither Faust nor streamctl knows is refused and
        None keeps the default (``store=os.environ.get("STORE")``, as in Faust).

        Raises ConfigurationError naming the setting as the caller wrote it.
        """
        for name in settings:
            if ALIASES.get(name, name) not in _FIELDS and name not in NOT_APPLICABLE:
                raise ConfigurationError(unknown_setting(name))
        for name, value in settings.items():
            if value is not None:  # None: the default, as Faust's Settings takes it
                setattr(self, name, value)

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


def unknown_setting(name: str) -> str:
    """The one-line refusal of a setting name neither Faust nor streamctl knows."""
    names = sorted((_FIELDS - {"id"}) | set(ALIASES))
    close = difflib.get_close_matches(name, [*names, *NOT_APPLICABLE], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown setting {name!r} ({hint}settings: {', '.join(names)})"


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
