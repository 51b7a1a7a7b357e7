"""streamctl table: get/set/del/dump/list, writes that survive recovery, refusal while a worker runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from support import ROOT, cli

from streamctl.naming import consumer_group
from streamctl.transport.local import LocalTransport

REVENUE = ROOT / "pipelines" / "revenue.yaml"
SALES = ROOT / "pipelines" / "data" / "sales.jsonl"


def send_and_run(datadir: Path) -> None:
    assert cli("send", "sales", "-p", REVENUE, "-d", datadir, "--file", SALES).exit_code == 0
    assert cli("run", REVENUE, "-d", datadir, "--until-idle").exit_code == 0


def get(datadir: Path, table: str, key: str) -> object:
    result = cli("table", "get", REVENUE, table, key, "-d", datadir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_set_without_worker_then_worker_continues_and_fresh_stores_recover(tmp_path: Path) -> None:
    # a brand-new key set before any worker ran: the worker's count continues from it
    result = cli("table", "set", REVENUE, "orders_per_customer", "ada", "100", "-d", tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "action": "set",
        "table": "orders_per_customer",
        "key": "ada",
        "value": 100,
    }
    assert get(tmp_path, "orders_per_customer", "ada") == 100
    send_and_run(tmp_path)
    assert get(tmp_path, "orders_per_customer", "ada") == 105
    # set after a run, on an existing key, and a delete: the next run sees both
    assert (
        cli("table", "set", REVENUE, "orders_per_customer", "ken", "0", "-d", tmp_path).exit_code
        == 0
    )
    assert (
        cli("table", "del", REVENUE, "orders_per_customer", "grace", "-d", tmp_path).exit_code == 0
    )
    before = json.loads(cli("table", "dump", REVENUE, "orders_per_customer", "-d", tmp_path).stdout)
    assert before == {"ada": 105, "barbara": 4, "ken": 0, "linus": 2, "margaret": 1}
    # a fresh data dir with the same broker log (no stores) recovers all of it
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(tmp_path / "broker.db", fresh / "broker.db")
    dumped = cli("table", "dump", REVENUE, "orders_per_customer", "-d", fresh, "-f", "jsonl")
    assert [json.loads(line) for line in dumped.stdout.splitlines()] == [
        {"key": k, "value": v} for k, v in sorted(before.items())
    ]
    # more sales: counts continue from the values set by hand
    send_and_run(fresh)
    assert get(fresh, "orders_per_customer", "ken") == 6
    assert get(fresh, "orders_per_customer", "grace") == 2
    assert get(fresh, "orders_per_customer", "ada") == 110


def test_values_and_keys_are_json_when_they_parse(tmp_path: Path) -> None:
    args = ("-d", tmp_path)
    assert cli("table", "set", REVENUE, "revenue_per_customer", "x", "12.5", *args).exit_code == 0
    assert cli("table", "set", REVENUE, "revenue_per_customer", "7", "3", *args).exit_code == 0
    assert (
        cli("table", "set", REVENUE, "products_per_customer", "x", '["b", "a"]', *args).exit_code
        == 0
    )
    dumped = json.loads(cli("table", "dump", REVENUE, "revenue_per_customer", *args).stdout)
    assert dumped == {"7": 3.0, "x": 12.5}
    assert get(tmp_path, "products_per_customer", "x") == ["a", "b"]
    table = cli("table", "dump", REVENUE, "revenue_per_customer", "--format", "table", *args)
    assert table.stdout.splitlines() == ["key  value", "---  -----", "x    12.5", "7    3.0"]


def test_unknown_table_or_key_is_a_clear_error(tmp_path: Path) -> None:
    missing = cli("table", "get", REVENUE, "orders_per_customer", "nobody", "-d", tmp_path)
    assert missing.exit_code == 1
    assert missing.stderr == "error: table 'orders_per_customer' has no key 'nobody'\n"
    unknown = cli("table", "dump", REVENUE, "orders", "-d", tmp_path)
    assert unknown.exit_code == 2
    assert "app 'revenue' has no table 'orders'" in unknown.stderr
    gone = cli("table", "del", REVENUE, "orders_per_customer", "nobody", "-d", tmp_path)
    assert gone.exit_code == 1 and "has no key 'nobody'" in gone.stderr


def test_list_shows_every_table(tmp_path: Path) -> None:
    rows = json.loads(cli("table", "list", REVENUE, "-d", tmp_path).stdout)
    assert [(r["table"], r["kind"], r["partitions"]) for r in rows] == [
        ("orders_per_customer", "Table", 4),
        ("products_per_customer", "SetTable", 4),
        ("revenue_per_customer", "Table", 4),
    ]


def test_writes_are_refused_while_a_worker_holds_the_group(tmp_path: Path) -> None:
    send_and_run(tmp_path)
    transport = LocalTransport(datadir=tmp_path)
    worker = transport.consumer(consumer_group("revenue"))
    worker.subscribe(["sales"])  # joins the group as this (live) process, as a worker does
    try:
        result = cli("table", "set", REVENUE, "orders_per_customer", "ada", "1", "-d", tmp_path)
        assert result.exit_code == 1
        assert (
            "cannot set a key of table 'orders_per_customer' while a worker runs" in result.stderr
        )
        assert "stop it first" in result.stderr
        refused = cli("table", "del", REVENUE, "orders_per_customer", "ada", "-d", tmp_path)
        assert refused.exit_code == 1
        # reads still work: they show what the worker last committed
        assert get(tmp_path, "orders_per_customer", "ada") == 5
    finally:
        worker.close()
        transport.close()
    assert (
        cli("table", "set", REVENUE, "orders_per_customer", "ada", "1", "-d", tmp_path).exit_code
        == 0
    )
    assert get(tmp_path, "orders_per_customer", "ada") == 1


HOPPING = """\
app: hopdump
topics:
  clicks: {partitions: 1}
tables:
  per_2m:
    default: int
    window: {hopping: {size: 2m, step: 1m}, time: at}
agents:
  count_clicks:
    from: clicks
    steps:
      - group_by: user
      - count: per_2m
"""


def test_dump_at_lists_each_keys_windows_holding_the_time(tmp_path: Path) -> None:
    """Hopping windows overlap: a time is in size/step windows per key, all listed."""
    path = tmp_path / "hop.yaml"
    path.write_text(HOPPING)
    data = tmp_path / "clicks.jsonl"
    clicks = [("ada", "10:00:30"), ("ada", "10:01:30"), ("ken", "10:01:10"), ("ken", "10:05:00")]
    data.write_text(
        "".join(json.dumps({"user": u, "at": f"2026-12-07T{t}Z"}) + "\n" for u, t in clicks)
    )
    assert cli("send", "clicks", "-p", path, "-d", tmp_path, "--file", data).exit_code == 0
    assert cli("run", path, "-d", tmp_path, "--until-idle").exit_code == 0
    held = cli("table", "dump", path, "per_2m", "-d", tmp_path, "--at", "2026-12-07T10:01:45Z")
    assert held.exit_code == 0, held.output
    got = [
        (r["key"], r["start"][11:16], r["end"][11:16], r["value"]) for r in json.loads(held.stdout)
    ]
    assert got == [
        ("ada", "10:00", "10:02", 2),
        ("ada", "10:01", "10:03", 1),
        ("ken", "10:00", "10:02", 1),
        ("ken", "10:01", "10:03", 1),
    ]
    epoch = cli("table", "dump", path, "per_2m", "-d", tmp_path, "--at", "1796637900")  # 10:05
    assert [(r["key"], r["start"][11:16]) for r in json.loads(epoch.stdout)] == [
        ("ken", "10:04"),
        ("ken", "10:05"),
    ]


def test_dump_at_on_a_table_without_a_window_is_refused(tmp_path: Path) -> None:
    send_and_run(tmp_path)
    result = cli("table", "dump", REVENUE, "orders_per_customer", "-d", tmp_path, "--at", "0")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "error: --at is for windowed tables; table 'orders_per_customer' has no window: (drop --at)"
    ]
