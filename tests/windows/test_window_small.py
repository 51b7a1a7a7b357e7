"""Windows shorter than Faust's 0.1 s end gap: every range ends after it starts (#11)."""

from __future__ import annotations

import json
import random

import pytest
from support import cli

from streamctl import HoppingWindow, TumblingWindow
from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.exceptions import ConfigurationError


@pytest.mark.parametrize(
    "window, t, want",
    [
        (TumblingWindow(0.001), 1.2345, [(1.234, 1.2349)]),
        (TumblingWindow(0.05), 7.0, [(7.0, 7.045)]),  # on a boundary: the window it starts
        (TumblingWindow(0.05), 7.049, [(7.0, 7.045)]),
        (TumblingWindow(0.1), 3.05, [(3.0, 3.09)]),
        (TumblingWindow(0.5), 3.3, [(3.0, 3.4)]),  # over 0.1 s: Faust's own ranges
        (
            HoppingWindow(0.05, 0.01),
            7.013,
            [(6.97, 7.015), (6.98, 7.025), (6.99, 7.035), (7.0, 7.045), (7.01, 7.055)],
        ),
    ],
)
def test_small_window_ranges(window, t, want) -> None:
    assert window.ranges(t) == want
    assert window.current(t) == want[-1] and window.earliest(t) == want[0]


@pytest.mark.parametrize(
    "window",
    [
        TumblingWindow(0.001),
        TumblingWindow(0.05),
        HoppingWindow(0.05, 0.01),
        HoppingWindow(1.5, 0.3),
    ],
)
def test_each_window_has_one_key_and_holds_its_events(window) -> None:
    rng = random.Random(11)
    seen: dict[float, tuple[float, float]] = {}
    for _ in range(5000):
        t = round(rng.uniform(1796637600, 1796637605), 3)
        for start, end in window.ranges(t):
            assert start <= t < start + window.size + 1e-6
            assert start < end < start + window.size
            assert seen.setdefault(round(start, 3), (start, end)) == (start, end)


def test_windows_under_a_millisecond_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 1 ms"):
        TumblingWindow(0.0005)


HEAD = """\
app: small
topics:
  clicks: {partitions: 1}
  out: {partitions: 1}
tables:
  per_50ms: {default: int, window: {tumbling: %s, time: ts}, emit: {on: close, to: out}}
agents:
  count:
    from: clicks
    steps:
      - group_by: page
      - count: per_50ms
"""


def test_a_50ms_window_counts_and_emits_end_to_end(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / "data"))
    path = tmp_path / "p.yaml"
    path.write_text(HEAD % "50ms")
    base = 1796637600  # 2026-12-07T10:00:00Z
    times = [0.001, 0.02, 0.049, 0.05, 0.07, 0.151]
    data = tmp_path / "clicks.jsonl"
    data.write_text("".join(json.dumps({"page": "a", "ts": base + t}) + "\n" for t in times))
    assert cli("send", "clicks", "-p", path, "--file", data).exit_code == 0
    ran = cli("run", path, "--until-idle")
    assert ran.exit_code == 0, ran.output
    dump = cli("table", "dump", path, "per_50ms", "--format", "json")
    rows = [(r["start"][17:], r["end"][17:], r["value"]) for r in json.loads(dump.stdout)]
    assert rows[:3] == [
        ("00Z", "00.050Z", 3),
        ("00.050Z", "00.100Z", 2),
        ("00.150Z", "00.200Z", 1),
    ]
    tail = cli("topic", "tail", "out", "-p", path)
    emitted = [json.loads(line)["value"] for line in tail.stdout.splitlines()]
    assert [(e["window"]["start"][17:], e["value"]) for e in emitted][:2] == [
        ("00Z", 3),
        ("00.050Z", 2),
    ]


def test_validate_refuses_a_window_under_a_millisecond_with_its_position(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEAD % "0.0005")
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert f"{path}:6:" in result.stderr and "at least 1 ms" in result.stderr, result.stderr


@pytest.mark.parametrize("key", ["home", "ünï", 'q"uote', 7, -3, 10**20])
def test_fast_window_keys_are_the_codec_s_bytes(key) -> None:
    from streamctl.tables.codec import TableCodec
    from streamctl.tables.windows.keys import window_key

    codec = TableCodec("t")
    for rng in [(0.0, 59.9), (1796637600.0, 1796637659.9), (6.97, 7.015), (1e16, 1e16 + 60)]:
        assert window_key(codec, key, rng) == codec.encode_key((key, rng))
