"""A store ahead of its Kafka changelog is refused with Kafka's remedy (the topic's
records), not the embedded broker's file (#15 review: it said "restore the log
(broker.db)" on Kafka too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamctl.app import App
from streamctl.tables.exceptions import StoreAheadOfLog
from streamctl.tables.stores.sqlite import SqliteStore

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("scheme", ["kafka", "kafka+confluent"])
def test_a_store_ahead_of_a_kafka_changelog_names_the_topic_to_restore(
    kafka_broker: str, tmp_path: Path, run_id: str, scheme: str
) -> None:
    app = App(f"ahead-{run_id}", broker=f"{scheme}://{kafka_broker}", datadir=tmp_path)
    try:
        table = app.Table("counts", default=int, partitions=1)
        app.transport.create_topics([table.changelog_topic.spec()])
        store = SqliteStore("sqlite://", table.store_path(0))
        store.apply({b'"phantom"': b"1"}, 500)
        store.close()
        with pytest.raises(StoreAheadOfLog) as caught:
            table.recover(app.transport)
        message = str(caught.value)
        assert "changelog ends before it (next offset 0)" in message
        assert "restore the changelog topic's records" in message
        assert "broker.db" not in message
    finally:
        app.close()


def test_on_the_embedded_broker_the_remedy_is_its_file(tmp_path: Path) -> None:
    app = App("ahead-local", broker="local://", datadir=tmp_path)
    try:
        table = app.Table("counts", default=int, partitions=1)
        store = SqliteStore("sqlite://", table.store_path(0))
        store.apply({b'"phantom"': b"1"}, 500)
        store.close()
        with pytest.raises(StoreAheadOfLog, match=r"restore the log \(broker\.db\)"):
            table.recover(app.transport)
    finally:
        app.close()
