"""dedupe expires its rows by stream time, with tombstones in the changelog (#13)."""

from __future__ import annotations

from pathlib import Path

from streamctl.pipeline import load_pipeline
from streamctl.testing import read_table, read_topic, run_until_idle, send

PIPE = """\
app: dedupe-expiry
broker: local://
topics:
  in: {partitions: 2}
  out: {partitions: 2}
tables:
  seen: {}
agents:
  a:
    from: in
    to: out
    steps:
      - dedupe: {table: seen, key: id, within: 10s}
"""
T0 = 1_800_000_000.0  # seconds; the step keeps milliseconds


def _app(tmp_path: Path) -> object:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE)
    return load_pipeline(path, datadir=tmp_path / "data").app


def _send(app: object, events: list[tuple[str, int, float]]) -> None:
    for key, id_, at in events:
        send(app, "in", {"id": id_}, key=key, partition=0, timestamp=T0 + at)  # type: ignore[arg-type]


def test_rows_expire_by_stream_time_and_are_tombstoned(tmp_path: Path) -> None:
    app = _app(tmp_path)
    _send(
        app,
        [
            ("k", 1, 0),  # first: kept, seen[1] = T0
            ("k", 2, 1),
            ("k", 1, 5),  # a repeat within 10 s: dropped
            ("k", 3, 11),  # stream time T0+11 s: 1 (T0) and 2 (T0+1 s) have expired
            ("k", 1, 12),  # 1 again, after its row was purged: kept, a new window
            ("k", 3, 13),  # a repeat of 3 within 10 s: dropped
        ],
    )
    send(app, "in", {"id": 9}, key="k", partition=1, timestamp=T0)  # another partition
    run_until_idle(app)  # type: ignore[arg-type]
    out = read_topic(app, "out")  # type: ignore[arg-type]
    assert [e.value["id"] for e in out if e.value["id"] != 9] == [1, 2, 3, 1]
    ms = int(T0 * 1000)
    # partition 1's stream time is T0: its row stays; partition 0 kept only the live rows
    assert read_table(app, "seen") == {3: ms + 11_000, 1: ms + 12_000, 9: ms}  # type: ignore[arg-type]
    changelog = read_topic(app, "dedupe-expiry-seen-changelog")  # type: ignore[arg-type]
    # one batch: 1's delete and new row are one change; 2 is gone for good
    assert [e.key for e in changelog if e.value is None] == [2]


def test_rows_restored_at_start_up_expire_too(tmp_path: Path) -> None:
    app = _app(tmp_path)
    _send(app, [("k", 1, 0), ("k", 2, 8)])
    run_until_idle(app)  # type: ignore[arg-type]
    again = _app(tmp_path)  # a restart: the rows come back from the store and changelog
    _send(again, [("k", 3, 15)])  # stream time T0+15 s: 1 expired, 2 (T0+8 s) not yet
    run_until_idle(again)  # type: ignore[arg-type]
    ms = int(T0 * 1000)
    assert read_table(again, "seen") == {2: ms + 8_000, 3: ms + 15_000}  # type: ignore[arg-type]
