"""Standby replicas without Kafka: which partitions a member keeps standbys of, and a
table manager that follows them, hands them over on assignment and keeps revoked ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamctl.app import App
from streamctl.tables.base import Collection
from streamctl.tables.manager import TableManager
from streamctl.transport.base import GroupInfo, GroupMember, TopicPartition
from streamctl.worker.rebalance import standby_partitions


def group(*members: tuple[str, set[int]], topics: tuple[str, ...] = ("in",)) -> GroupInfo:
    return GroupInfo(
        "g",
        "Stable",
        tuple(
            GroupMember(mid, partitions=frozenset(TopicPartition(t, p) for t in topics for p in ps))
            for mid, ps in members
        ),
    )


def tps(*partitions: int, topic: str = "in") -> set[TopicPartition]:
    return {TopicPartition(topic, p) for p in partitions}


def test_two_members_each_keep_standbys_of_the_others_partitions() -> None:
    g = group(("m-b", {2, 3}), ("m-a", {0, 1}))
    assert standby_partitions(g, tps(0, 1), 1) == {2, 3}
    assert standby_partitions(g, tps(2, 3), 1) == {0, 1}
    # more replicas than other members: every other member, never the owner itself
    assert standby_partitions(g, tps(0, 1), 3) == {2, 3}


def test_each_partition_gets_the_members_after_its_owner_in_the_ring() -> None:
    g = group(("a", {0, 1}), ("b", {2, 3}), ("c", {4, 5}))
    one = {m: standby_partitions(g, tps(*ps), 1) for m, ps in [("a", (0, 1)), ("b", (2, 3))]}
    one["c"] = standby_partitions(g, tps(4, 5), 1)
    assert one == {"a": {4, 5}, "b": {0, 1}, "c": {2, 3}}
    two = standby_partitions(g, tps(0, 1), 2)
    assert two == {2, 3, 4, 5}
    # every partition has exactly `replicas` holders, none of them its owner
    for replicas in (1, 2):
        holders: dict[int, int] = {}
        for ps in [(0, 1), (2, 3), (4, 5)]:
            chosen = standby_partitions(g, tps(*ps), replicas)
            assert not chosen & set(ps)
            for p in chosen:
                holders[p] = holders.get(p, 0) + 1
        assert holders == dict.fromkeys(range(6), replicas)


def test_a_partition_owned_through_any_topic_is_never_a_standby_there() -> None:
    g = group(("a", {0}), ("b", {1}), topics=("in", "in-repartition"))
    mine = tps(0) | tps(0, topic="in-repartition")
    assert standby_partitions(g, mine, 1) == {1}


def test_no_standbys_for_a_member_without_partitions_replicas_or_reported_assignments() -> None:
    g = group(("a", {0, 1}), ("b", {2, 3}))
    assert standby_partitions(g, set(), 1) == set()  # assigned nothing
    assert standby_partitions(g, tps(0), 1) is None  # the broker's view is another one
    assert standby_partitions(g, tps(0, 1), 0) == set()
    embedded = GroupInfo("g", "Stable", (GroupMember("pid 1"),))  # no assignments reported
    assert standby_partitions(embedded, tps(0, 1), 1) == set()


# -- the table manager ------------------------------------------------------------------------


def table_app(datadir: Path) -> tuple[App, Collection]:
    app = App("sb", broker="memory://", datadir=datadir)
    table = app.Table("t", default=int, partitions=2)
    app.ensure_topics()
    return app, table


def write(app: App, table: Collection, partition: int, values: range) -> None:
    """Changelog records ``k<i % 5> = i`` into ``partition``, as an owner's commits would."""
    producer = app.producer
    for i in values:
        key = table._codec.encode_key(f"k{i % 5}")
        producer.send(table.changelog_name, key, table._codec.dump_value(i), partition=partition)
    producer.flush()


def follow(manager: TableManager) -> dict[tuple[str, int], int]:
    for _ in range(50):
        manager.follow_standbys()
        lag = manager.standby_lag()
        if lag and not any(lag.values()):
            return lag
    raise AssertionError(f"standbys never caught up: {manager.standby_lag()}")


def test_a_standby_follows_its_changelog_and_becomes_active_without_a_rebuild(
    tmp_path: Path,
) -> None:
    app, table = table_app(tmp_path)
    write(app, table, 1, range(50))
    replayed: dict[int, int] = {}
    manager = TableManager(
        [table], standby_replicas=1, progress=lambda t, p, done, total: replayed.update({p: total})
    )
    manager.start(app.transport, {})
    manager.assign({0})
    manager.set_standbys({0, 1})  # the active partition is left out
    assert manager.standbys == {1}
    assert follow(manager) == {("t", 1): 0}
    assert len(table) == 0 and "k1" not in table  # a standby is not this worker's state
    write(app, table, 1, range(50, 80))
    assert manager.standby_lag() == {("t", 1): 30}
    follow(manager)

    replayed.clear()
    assert manager.assign({0, 1}) == {1}
    assert manager.standbys == set()
    assert replayed == {1: 0}  # nothing left to replay: the standby had all of it
    assert dict(table.items()) == {f"k{i}": 75 + i for i in range(5)}
    manager.close()
    app.close()


def test_without_standbys_the_new_partition_is_rebuilt_from_its_whole_changelog(
    tmp_path: Path,
) -> None:
    app, table = table_app(tmp_path)
    write(app, table, 1, range(80))
    replayed: dict[int, int] = {}
    manager = TableManager(
        [table], standby_replicas=0, progress=lambda t, p, done, total: replayed.update({p: total})
    )
    manager.start(app.transport, {})
    manager.assign({0})
    manager.set_standbys({1})
    assert manager.standbys == set() and manager.standby_lag() == {}
    manager.assign({0, 1})
    assert replayed[1] == 80
    assert dict(table.items()) == {f"k{i}": 75 + i for i in range(5)}
    manager.close()
    app.close()


def test_a_revoked_partition_is_kept_as_a_standby_until_the_next_choice(tmp_path: Path) -> None:
    app, table = table_app(tmp_path)
    manager = TableManager([table], standby_replicas=1)
    manager.start(app.transport, {})
    manager.assign({0, 1})
    table["k1"] = 1  # outside a stream: its home partition
    home = table._state.targets(table._codec.encode_key("k1"))[0]
    from streamctl.worker import commit

    commit.commit_batch(table, app.producer)
    other = 1 - home
    assert manager.revoke({other}) == {home}
    assert manager.standbys == {home} and "k1" not in table
    assert home in table._state.stores  # kept open: still warm
    write(app, table, home, range(3))  # its new owner writes on
    follow(manager)
    assert table._state.stores[home].persisted_offset() == 3
    manager.set_standbys(set())
    assert manager.standbys == set() and home not in table._state.stores
    manager.close()
    app.close()


def test_standbys_follow_only_with_replicas_and_a_setting_refuses_negatives(
    tmp_path: Path,
) -> None:
    from streamctl.exceptions import ConfigurationError

    assert App("x", datadir=tmp_path).conf.table_standby_replicas == 1  # Faust's default
    assert App("x", datadir=tmp_path, table_standby_replicas=2).conf.table_standby_replicas == 2
    with pytest.raises(ConfigurationError, match="table_standby_replicas"):
        App("x", datadir=tmp_path, table_standby_replicas=-1)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "not true"), (2**31, "not 2147483648"), (1.5, "not 1.5")],
)
def test_a_setting_refused_is_spelled_as_yaml_and_standbys_fit_a_kafka_int(
    tmp_path: Path, value: object, shown: str
) -> None:
    # Kafka Streams' num.standby.replicas is a Java int: 2**31 - 1 at most
    from streamctl.exceptions import ConfigurationError

    assert App("x", datadir=tmp_path, table_standby_replicas=2**31 - 1)
    with pytest.raises(ConfigurationError) as caught:
        App("x", datadir=tmp_path, table_standby_replicas=value)
    assert str(caught.value) == (
        "setting table_standby_replicas must be a whole number from 0 to 2147483647, " + shown
    )


@pytest.mark.parametrize(("value", "shown"), [("true", "true"), ("2147483648", "2147483648")])
def test_validate_spells_a_refused_setting_as_the_file_does(
    tmp_path: Path, value: str, shown: str
) -> None:
    from typer.testing import CliRunner

    from streamctl.cli.main import app as cli

    pipe = tmp_path / "p.yaml"
    pipe.write_text(
        "app: spelled\nbroker: local://\ntopics:\n  words: {}\n"
        f"settings:\n  table_standby_replicas: {value}\n"
        "tables:\n  orders: {default: int}\n"
        "agents:\n  a:\n    from: words\n    steps:\n      - count: orders\n"
    )
    result = CliRunner().invoke(cli, ["validate", str(pipe)])
    assert result.exit_code != 0
    assert result.output == (
        f"{pipe}:6:27: setting table_standby_replicas must be a whole number from 0 to "
        f"2147483647, not {shown}\n"
    )


def test_a_worker_alone_closes_revoked_partitions_as_before(tmp_path: Path) -> None:
    app, table = table_app(tmp_path)
    manager = TableManager([table], standby_replicas=1)
    manager.start(app.transport, {})
    manager.assign({0, 1})
    table._state.store(1)
    assert manager.revoke({0}, keep_standbys=False) == {1}
    assert manager.standbys == set() and 1 not in table._state.stores
    manager.close()
    app.close()


def test_a_broker_that_does_not_answer_leaves_no_half_started_standby(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from streamctl.transport.exceptions import BrokerUnavailable

    app, table = table_app(tmp_path)
    manager = TableManager([table], standby_replicas=1)
    manager.start(app.transport, {})
    manager.assign({0})
    real = app.transport.consumer

    def consumer(group_id: str | None) -> object:
        made = real(group_id)

        def away(tps: object) -> dict[TopicPartition, int]:
            raise BrokerUnavailable("the broker is away")

        made.end_offsets = away  # type: ignore[method-assign]
        return made

    monkeypatch.setattr(app.transport, "consumer", consumer)
    manager.set_standbys({1})
    assert manager.standbys == set() and 1 not in table._state.stores
    assert "standby partitions not updated: the broker is away" in caplog.text
    monkeypatch.undo()  # the broker is back
    assert manager.assign({0, 1}) == {1}  # and the partition is recovered as ever
    manager.close()
    app.close()
