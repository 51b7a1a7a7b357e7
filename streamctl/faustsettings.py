"""Faust's setting names: which map onto streamctl's, and which do not apply (warned once).

Source: Faust's ``faust/types/settings`` (the ``App(**settings)`` keywords). A Faust app
passes these to ``App(...)`` or assigns them on ``app.conf``; streamctl takes the ones
that mean something here under its own name and warns once per name for the rest, so
a ported app runs and says what it left out.
"""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__))

#: Faust's name -> streamctl's setting of the same meaning
ALIASES = {
    "store": "table_store",
    "broker_commit_interval": "commit_interval",
    "broker_max_poll_records": "max_poll_records",
}

_WEB = "there is no web server"
_CLIENT = "broker client tuning: pass it with --broker-setting / broker_settings"
#: Faust settings that have no meaning in streamctl -> why (said in the warning)
NOT_APPLICABLE: dict[str, str] = {
    "version": "tables are not versioned",
    "origin": "apps are found by module:attribute",
    "autodiscover": "modules are not scanned; import the ones declaring agents",
    "canonical_url": _WEB,
    "debug": "use --log-level debug",
    "loghandlers": "logging is configured by the CLI",
    "logging_config": "logging is configured by the CLI",
    "timezone": "timestamps are UTC epoch times",
    "id_format": "the app id is used as given",
    "tabledir": "stores live under datadir",
    "blocking_timeout": "no blocking detector",
    "web": _WEB,
    "web_enabled": _WEB,
    "web_bind": _WEB,
    "web_port": _WEB,
    "web_host": _WEB,
    "web_transport": _WEB,
    "web_in_thread": _WEB,
    "web_cors_options": _WEB,
    "web_ssl_context": _WEB,
    "stream_buffer_maxsize": "streams are fed one batch at a time",
    "stream_wait_empty": "a stopping worker always finishes its batch",
    "stream_ack_exceptions": "failed events follow on_error",
    "stream_ack_cancelled_tasks": "failed events follow on_error",
    "stream_publish_on_commit": "outputs are always written with the commit",
    "stream_processing_timeout": "no per-event timeout",
    "stream_recovery_delay": "recovery starts at once",
    "table_cleanup_interval": "windowed tables expire on stream time",
    "table_key_index_size": "no key index",
    "reply_to": "agent ask/replies are not supported",
    "reply_to_prefix": "agent ask/replies are not supported",
    "reply_create_topic": "agent ask/replies are not supported",
    "reply_expires": "agent ask/replies are not supported",
    "topic_replication_factor": "topics get the broker's default replication",
    "topic_allow_declare": "declared topics are created on first use",
    "topic_disable_leader": "there is no leader topic",
    "worker_redirect_stdouts": "output is not redirected",
    "worker_redirect_stdouts_level": "output is not redirected",
    "broker_client_id": _CLIENT,
    "broker_credentials": _CLIENT,
    "broker_check_crcs": _CLIENT,
    "broker_heartbeat_interval": _CLIENT,
    "broker_request_timeout": _CLIENT,
    "broker_session_timeout": _CLIENT,
    "broker_rebalance_timeout": _CLIENT,
    "broker_max_poll_interval": _CLIENT,
    "broker_api_version": _CLIENT,
    "broker_commit_every": "commits follow broker_commit_interval",
    "broker_commit_livelock_soft_timeout": "no livelock detector",
    "consumer_auto_offset_reset": _CLIENT,
    "consumer_max_fetch_size": _CLIENT,
    "consumer_api_version": _CLIENT,
    "consumer_group_instance_id": _CLIENT,
    "producer_acks": _CLIENT,
    "producer_api_version": _CLIENT,
    "producer_compression_type": _CLIENT,
    "producer_linger_ms": _CLIENT,
    "producer_max_batch_size": _CLIENT,
    "producer_max_request_size": _CLIENT,
    "producer_partitioner": _CLIENT,
    "producer_request_timeout": _CLIENT,
    "producer_threaded": _CLIENT,
    "ssl_context": _CLIENT,
    "agent_supervisor": "a failed agent follows on_error",
    "store_check_exists": "stores are checked against their changelogs",
    "recovery_consistency_check": "stores are checked against their changelogs",
    "table_standby_replicas_enabled": "standbys follow table_standby_replicas (0: none)",
    "cache": "no cache backend",
    "sensors": "no sensors; see the worker's stats",
    "monitor": "no monitor; see the worker's stats",
}
#: Faust's rule for the numbers among them, so a value Faust would refuse is refused here
#: too (``app.conf.broker_commit_every = -1``): name -> (int or float seconds, minimum;
#: None: any). Source: Faust's ``faust/types/settings/settings.py`` (UnsignedInt, Int with
#: ``min_value``, Seconds).
FAUST_NUMBERS: dict[str, tuple[type, int | None]] = {
    "version": (int, 1),
    "broker_commit_every": (int, 0),
    "consumer_max_fetch_size": (int, 0),
    "stream_buffer_maxsize": (int, 0),
    "table_key_index_size": (int, 0),
    "blocking_timeout": (float, None),
    "broker_commit_livelock_soft_timeout": (float, None),
    "broker_heartbeat_interval": (float, None),
    "broker_max_poll_interval": (float, None),
    "broker_rebalance_timeout": (float, None),
    "broker_request_timeout": (float, None),
    "broker_session_timeout": (float, None),
    "stream_processing_timeout": (float, None),
    "table_cleanup_interval": (float, None),
}
# Faust's class overrides (App(Stream=..., Table=...)): not pluggable here
for _cls in [
    "Agent",
    "Stream",
    "Table",
    "SetTable",
    "GlobalTable",
    "SetGlobalTable",
    "TableManager",
    "Serializers",
    "Worker",
    "PartitionAssignor",
    "LeaderAssignor",
    "Router",
    "Topic",
    "HttpClient",
    "Monitor",
    "ConsumerScheduler",
]:
    NOT_APPLICABLE[_cls] = "classes are not pluggable by setting"

#: the store URLs Faust apps use that streamctl takes as another store (warned once)
STORE_ALIASES = {"rocksdb": "sqlite://"}


class FaustSettingWarning(UserWarning):
    """A Faust setting (or store) a ported app uses that streamctl ignores or maps."""


_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Warn ``message`` once per process for ``key``."""
    if key in _warned:
        return
    _warned.add(key)
    # point at the user's line (App(...) or conf.x = ...), the first frame outside streamctl
    level, frame = 1, sys._getframe(0)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, FaustSettingWarning, stacklevel=level)


def not_applicable(name: str) -> None:
    """Warn once that Faust setting ``name`` does not apply here, and why."""
    warn_once(
        name, f"setting {name!r} does not apply to streamctl ({NOT_APPLICABLE[name]}): ignored"
    )


def store_url(url: str) -> str:
    """``url``, or the store streamctl uses for it: ``rocksdb://`` is the SQLite store (a
    durable local key/value store, as RocksDB is for Faust), with a one-line warning."""
    scheme = url.split(":", 1)[0].lower() if isinstance(url, str) else ""
    alias = STORE_ALIASES.get(scheme)
    if alias is None:
        return url
    warn_once(
        "store:" + scheme,
        f"store {url!r}: streamctl keeps tables in its SQLite store ({alias}) instead of "
        "RocksDB; the data is rebuilt from the changelogs, not read from RocksDB files",
    )
    return alias
