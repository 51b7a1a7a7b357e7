"""Faust settings are checked wherever they are written (#12 review): ``App(...)`` and
assignments to ``app.conf`` run the same check, and the error names the setting as the
user wrote it (Faust's name), with the value and what is accepted."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from faust_support import fresh_dir  # noqa: F401 (autouse)
from support import streamctl_run

import streamctl as faust
from streamctl.exceptions import ConfigurationError
from streamctl.faustsettings import FaustSettingWarning

BAD = [
    ("topic_partitions", 0, "setting topic_partitions must be a whole number >= 1, not 0"),
    (
        "broker_commit_interval",
        -1,
        "setting broker_commit_interval must be a number of seconds >= 0, not -1",
    ),
    ("commit_interval", -0.5, "setting commit_interval must be a number of seconds >= 0, not -0.5"),
    (
        "broker_commit_interval",
        timedelta(seconds=-2),
        "setting broker_commit_interval must be a number of seconds >= 0, not -2.0",
    ),
    ("broker_commit_every", -1, "setting broker_commit_every must be a whole number >= 0, not -1"),
    (
        "broker_max_poll_records",
        0,
        "setting broker_max_poll_records must be a whole number >= 1, not 0",
    ),
    ("version", 0, "setting version must be a whole number >= 1, not 0"),
    (
        "store",
        5,
        "setting store must be a store URL such as 'sqlite://' or 'memory://', not int 5",
    ),
    (
        "store",
        "rocks://",
        "setting store: unknown table store 'rocks' (known: memory://, sqlite://)",
    ),
    (
        "datadir",
        5,
        "setting datadir must be a directory path (a str or pathlib.Path), not int 5",
    ),
    (
        "key_serializer",
        3,
        "setting key_serializer must be a codec name (such as 'json', 'raw' or 'binary') "
        "or a codec object, not int 3",
    ),
    (
        "value_serializer",
        "jsn",
        "setting value_serializer: unknown serializer 'jsn' (known: binary, json, raw)",
    ),
    (
        "processing_guarantee",
        "twice",
        "setting processing_guarantee must be one of at_least_once, exactly_once, not 'twice'",
    ),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[b[0] for b in BAD])
def test_app_and_conf_assignment_refuse_a_bad_value_alike_naming_the_setting(
    name: str, value: object, message: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # version, broker_commit_every: "does not apply"
        with pytest.raises(ConfigurationError) as built:
            faust.App("checks", **{name: value})
        app = faust.App("checks")
        before = getattr(app.conf, name, None)
        with pytest.raises(ConfigurationError) as assigned:
            setattr(app.conf, name, value)
    assert str(built.value) == str(assigned.value) == message
    assert getattr(app.conf, name, None) == before  # a refused value is not kept


def test_a_refused_store_assignment_leaves_the_tables_where_they_were() -> None:
    app = faust.App("checks")
    table = app.Table("t", default=int)
    with pytest.raises(ConfigurationError):
        app.conf.store = 5
    assert (app.conf.store, table.store_url) == ("sqlite://", "sqlite://")


def test_seconds_settings_take_a_timedelta_as_faust_does() -> None:
    app = faust.App("checks", broker_commit_interval=timedelta(seconds=2))
    assert app.conf.commit_interval == 2.0
    app.conf.broker_commit_interval = timedelta(milliseconds=250)
    assert app.conf.broker_commit_interval == 0.25
    with pytest.warns(FaustSettingWarning, match="broker_commit_every"):
        app.conf.broker_commit_every = "100"  # Faust converts text (from the environment)
    assert app.conf.broker_commit_every == 100


def test_none_given_to_app_keeps_the_default_as_in_faust() -> None:
    app = faust.App("checks", store=None, topic_partitions=None, broker_commit_interval=None)
    assert (app.conf.store, app.conf.topic_partitions, app.conf.commit_interval) == (
        "sqlite://",
        1,
        0.5,
    )
    with pytest.raises(ConfigurationError, match="topic_partitions must be a whole number"):
        app.conf.topic_partitions = None  # an assignment is a value, as in Faust


def test_an_unknown_setting_suggests_the_close_name() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"unknown setting 'topic_partition' \(did you mean 'topic_partitions'\?",
    ):
        faust.App("checks", topic_partition=4)


def test_a_bad_conf_assignment_in_a_module_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "badconf.py").write_text(
        "import streamctl as faust\n"
        "app = faust.App('badconf', broker='local://')\n"
        "app.conf.topic_partitions = 0\n"
    )
    done = streamctl_run("worker", "-A", "badconf", "--until-idle", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: setting topic_partitions must be a whole number >= 1, not 0"
    ]
    assert not (tmp_path / ".streamctl").exists()  # refused before anything was created
