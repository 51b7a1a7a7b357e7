"""A running worker's /metrics after a known input: exact counters (#15 item 1), and the
JSON endpoints and the read-only server beside them (item 2)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from observe_support import get, get_json, metric, pipeline, send, wait_for, worker

GOOD = [{"w": w, "n": 1} for w in "abacada"]
BAD = [{"n": 2}, {"n": 3}]  # no w: they do not decode as a Word


def test_metrics_count_a_known_input(tmp_path: Path) -> None:
    pipe, datadir = pipeline(tmp_path), tmp_path / "data"
    send(pipe, datadir, GOOD + BAD)
    with worker(pipe, datadir) as base:
        total = len(GOOD) + len(BAD)

        def scraped() -> str | None:
            code, body = get(base + "metrics")
            assert code == 200
            text = body.decode()
            done = metric(text, "streamctl_records_sent_total", topic="out")
            return text if done == len(GOOD) else None

        text = wait_for(scraped)
        assert metric(text, "streamctl_events_received_total", topic="words") == total
        assert metric(text, "streamctl_events_processed_total", agent="count", topic="words") == (
            len(GOOD)
        )
        assert metric(text, "streamctl_records_sent_total", topic="words-bad") == len(BAD)
        assert metric(
            text, "streamctl_dead_letters_total", action="dead_letter", reason="ValidationError"
        ) == len(BAD)
        distinct = len({r["w"] for r in GOOD})
        assert metric(text, "streamctl_changelog_records_written_total", table="counts") == distinct
        assert metric(text, "streamctl_event_latency_seconds_count") >= total
        assert metric(text, "streamctl_commit_duration_seconds_count") >= 1
        assert metric(text, "streamctl_consumer_lag", topic="words", partition="0") == 0
        assert metric(text, "streamctl_rebalances_total") >= 1
        assert metric(text, "streamctl_ready") == 1

        code, status = get_json(base + "api/status")
        assert code == 200 and status["app"] == "obs" and status["ready"] is True
        assert status["events_in"]["words"] == total
        assert [r["reason"] for r in status["last_reasons"]] == ["ValidationError"] * len(BAD)
        wait_for(lambda: get_json(base + "api/tables")[1][0]["keys"] == distinct)
        counts = Counter(r["w"] for r in GOOD)
        code, found = get_json(base + "api/tables/counts/a")
        assert (code, found["found"], found["value"]) == (200, True, counts["a"])
        code, missing = get_json(base + "api/tables/counts/zzz")
        assert (code, missing["found"]) == (404, False)
        assert get(base + "api/tables/nope/a")[0] == 404
        assert get(base + "healthz")[0] == 200
        request = urllib.request.Request(base + "api/tables/counts/a", data=b"9", method="PUT")
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("a write was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 405
        assert json.loads(get(base + "api/tables/counts/a")[1])["value"] == counts["a"]
