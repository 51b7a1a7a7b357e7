"""The #13 steps through the library: load a pipeline file on the in-memory broker and run it."""

from __future__ import annotations

from pathlib import Path

from streamctl.pipeline import load_pipeline
from streamctl.testing import read_table, read_topic, run_until_idle, send

PIPE = """\
app: more
broker: memory://
topics:
  in: {partitions: 1}
  big: {partitions: 1}
  small: {partitions: 1}
  items: {partitions: 1}
tables:
  products: {kind: global}
  lo: {}
  hi: {}
  avg: {}
  tot: {default: int}
  seen: {}
agents:
  a:
    from: in
    steps:
      - dedupe: {table: seen, within: 10m, key: id}
      - lookup: {table: products, key: sku, as: product, default: "'?'"}
      - set: {name: "upper(coalesce(product?.name, 'none'))", tag0: "split(tags, ',')[0]"}
      - drop: tags
      - sum: {table: tot, value: n}
      - min: {table: lo, value: n}
      - max: {table: hi, value: n}
      - mean: {table: avg, value: n}
      - branch:
          - when: "n >= 10"
            to: big
          - default: true
            steps:
              - flat_map: {each: "split(tags2, ' ')", as: word}
              - keep: [word, id]
              - to: [small, items]
"""


def test_lookup_branch_aggregates_dedupe_flat_map(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE)
    app = load_pipeline(path, datadir=tmp_path).app
    events = [
        {"id": 1, "sku": "a", "n": 4, "tags": "x,y", "tags2": "p q"},
        {"id": 2, "sku": "zz", "n": 12, "tags": "z", "tags2": ""},
        {"id": 1, "sku": "a", "n": 4, "tags": "x,y", "tags2": "p q"},  # a repeat: dropped
        {"id": 3, "sku": "a", "n": 2, "tags": "w", "tags2": "r"},
    ]
    for e in events:
        send(app, "in", e, key="k")
    app.tables["products"]  # declared global: empty here, so lookups use the default
    run_until_idle(app)
    assert read_table(app, "tot") == {"k": 18}
    assert read_table(app, "lo") == {"k": 2}
    assert read_table(app, "hi") == {"k": 12}
    assert read_table(app, "avg") == {"k": {"count": 3, "sum": 18, "mean": 6.0}}
    big = [e.value for e in read_topic(app, "big")]
    assert [b["id"] for b in big] == [2] and big[0]["name"] == "NONE" and "tags" not in big[0]
    assert big[0]["tag0"] == "z"
    small = sorted((e.value["id"], e.value["word"]) for e in read_topic(app, "small"))
    assert small == [(1, "p"), (1, "q"), (3, "r")]
    assert len(read_topic(app, "items")) == 3


DEDUPE = """\
app: dedupe-window
broker: memory://
topics:
  orders: {partitions: 1}
  once: {partitions: 1}
tables:
  seen_orders: {}
agents:
  a:
    from: orders
    steps:
      - dedupe: {table: seen_orders, within: 10m, key: id}
      - to: once
"""


def test_dedupe_drops_a_repeat_within_the_window_by_record_time(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(DEDUPE)
    app = load_pipeline(path, datadir=tmp_path).app
    t0 = 1_796_601_600.0  # seconds
    for id_, minutes in [(1, 0), (1, 5), (2, 6), (1, 11), (1, 15)]:
        send(app, "orders", {"id": id_, "at": minutes}, key="k", timestamp=t0 + minutes * 60)
    run_until_idle(app)
    kept = [(e.value["id"], e.value["at"]) for e in read_topic(app, "once")]
    # 5 min after the first 1: a repeat; 11 min after it: new again (and 15 is 4 after 11)
    assert kept == [(1, 0), (2, 6), (1, 11)]
    assert read_table(app, "seen_orders") == {
        1: int((t0 + 11 * 60) * 1000),
        2: int((t0 + 6 * 60) * 1000),
    }
