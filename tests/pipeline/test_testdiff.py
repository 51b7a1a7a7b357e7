"""How ``streamctl test`` compares records and table rows: the four match modes and the diffs (#13)."""

from __future__ import annotations

import pytest

from streamctl.pipeline.testdiff import Actual, compare_records, compare_table
from streamctl.pipeline.testspec import ANY, Record


def written(*pairs: tuple[str, int]) -> list[Actual]:
    return [Actual(key=k, value=v, timestamp=0.0) for k, v in pairs]


def want(*pairs: tuple[object, int]) -> list[Record]:
    return [Record(value=v, key=k) for k, v in pairs]


# a's records in order, b's in order, interleaved differently than expected
ACTUAL = written(("a", 1), ("b", 10), ("a", 2), ("b", 20))
SAME_PER_KEY = want(("b", 10), ("a", 1), ("b", 20), ("a", 2))
A_SWAPPED = want(("a", 2), ("b", 10), ("a", 1), ("b", 20))


@pytest.mark.parametrize(
    "match, expected, ok",
    [
        ("exact", SAME_PER_KEY, True),  # another interleaving of keys: still Kafka's order
        ("exact", A_SWAPPED, False),  # a's records out of order
        ("ordered", SAME_PER_KEY, False),
        ("ordered", want(("a", 1), ("b", 10), ("a", 2), ("b", 20)), True),
        ("unordered", A_SWAPPED, True),
        ("unordered", A_SWAPPED[:3], False),  # one record too many written
        ("subset", A_SWAPPED[:2], True),
        ("subset", want(("a", 3)), False),
        ("exact", want((ANY, 1), (ANY, 10), (ANY, 2), (ANY, 20)), True),  # keys not compared
        ("exact", want(("b", 1), ("b", 10), ("a", 2), ("b", 20)), False),
    ],
)
def test_match_modes(match: str, expected: list[Record], ok: bool) -> None:
    assert (compare_records("t", match, expected, ACTUAL) is None) is ok


def test_the_diff_shows_only_what_differs_aligned_with_the_expected_records() -> None:
    message = compare_records("t", "unordered", want(("b", 20), ("a", 9), ("a", 1)), ACTUAL)
    assert message == (
        "topic 't' (match: unordered): 4 record(s) written, 3 expected\n"
        '   {key: "b", value: 20}\n'
        '  -{key: "a", value: 9}\n'
        '   {key: "a", value: 1}\n'
        '  +{key: "b", value: 10}\n'
        '  +{key: "a", value: 2}\n'
        # the first written record of its key not matched
        "  expected record 2 not found: written record 3 differs at value: expected 9, written 2"
    )


def test_subset_leaves_other_records_out_of_the_diff() -> None:
    message = compare_records("t", "subset", want(("a", 3)), ACTUAL)
    assert message is not None
    assert message.splitlines()[1:] == [
        '  -{key: "a", value: 3}',
        "  (4 other record(s) in the topic, allowed by match: subset)",
        "  expected record 1 not found: written record 1 differs at value: expected 3, written 1",
    ]


def test_reason_and_timestamp_are_compared_only_when_given() -> None:
    parked = [Actual(key="a", value=1, timestamp=1.5, reason="ValueError: qty must be > 0")]
    assert compare_records("t", "exact", [Record(value=1, key=ANY)], parked) is None
    assert (
        compare_records("t", "exact", [Record(value=1, key=ANY, reason="qty must")], parked) is None
    )
    assert compare_records("t", "exact", [Record(value=1, key=ANY, timestamp=1.5)], parked) is None
    assert (
        compare_records("t", "exact", [Record(value=1, key=ANY, timestamp=2.0)], parked) is not None
    )
    assert (
        compare_records("t", "exact", [Record(value=1, key=ANY, reason="price")], parked)
        is not None
    )


def test_tables_exact_and_subset_with_keys_compared_as_text() -> None:
    actual = {"2024": 3, "ada": {"n": 1}}
    assert compare_table("c", "exact", {2024: 3, "ada": {"n": 1}}, actual) is None
    assert compare_table("c", "subset", {"ada": {"n": 1}}, actual) is None
    message = compare_table("c", "exact", {"ada": {"n": 2}}, actual)
    assert message == (
        'table \'c\' (match: exact):\n  -ada: {"n": 2}\n  +2024: 3\n  +ada: {"n": 1}'
        "\n  key ada: value.n: expected 2, written 1"
    )


def test_windowed_rows_compare_the_fields_given() -> None:
    rows = [
        {"key": "home", "start": "2026-12-07T10:00:00Z", "end": "2026-12-07T10:01:00Z",
         "value": 2, "state": "closed"},
        {"key": "home", "start": "2026-12-07T10:01:00Z", "end": "2026-12-07T10:02:00Z",
         "value": 1, "state": "open"},
    ]  # fmt: skip
    assert compare_table("w", "exact", [{"key": "home", "value": 2}, {"value": 1}], rows) is None
    assert compare_table("w", "subset", [{"value": 1}], rows) is None
    assert compare_table("w", "exact", [{"value": 1}], rows) is not None
    assert "is not windowed" in (compare_table("w", "exact", [{"value": 1}], {"a": 1}) or "")


@pytest.mark.parametrize("match", ["exact", "ordered", "unordered"])
def test_an_unexpected_dead_letter_shows_its_reason(match: str) -> None:
    """A record parked where none was expected says why, so the test can be fixed."""
    parked = [Actual(key="a", value=1, timestamp=0.0, reason="TypeError: 'str' + 'float'")]
    message = compare_records("bad", match, [], parked)
    assert message is not None
    assert message.splitlines()[-1].strip() == (
        "+{key: \"a\", value: 1, reason: \"TypeError: 'str' + 'float'\"}"
    )


@pytest.mark.parametrize(
    "want, got, match, found",
    [
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3}, "subset", None),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, "exact", "value.a.c: written 2, not expected"),
        (
            {"a": [{"s": "x"}]},
            {"a": [{"s": "y", "n": 1}]},
            "subset",
            'value.a[0].s: expected "x", written "y"',
        ),
        ({"a": [1]}, {"a": [1, 2]}, "subset", "value.a: expected 1 item(s), written 2"),
        ({"a b": 1}, {"a b": 2}, "subset", 'value["a b"]: expected 1, written 2'),
        ({"a": 1}, {}, "subset", "value.a: expected 1, not written"),
        ({"a": 1}, [1], "subset", 'value: expected {"a": 1}, written [1]'),
        (3, 3, "subset", None),
        ({"a": (1, 2)}, {"a": [1, 2]}, "exact", None),  # a tuple is a JSON list
    ],
)
def test_difference_names_the_first_differing_path(
    want: object, got: object, match: str, found: str | None
) -> None:
    from streamctl.pipeline.testmatch import difference, matches

    assert difference(want, got, match) == found
    assert matches(want, got, match) is (found is None)


def test_a_record_match_overrides_the_topic_and_headers_are_compared_exactly() -> None:
    actual = [Actual(key="a", value={"n": 1, "m": 2}, timestamp=0.0, headers={"h": "x"})]
    partial = Record(value={"n": 1}, key="a", match="subset")
    assert compare_records("t", "exact", [partial], actual) is None
    whole = Record(value={"n": 1}, key="a", match="exact")
    assert compare_records("t", "subset", [whole], actual) is not None
    assert compare_records("t", "subset", [Record(value={"n": 1}, key=ANY)], actual) is None
    wrong = Record(value={"n": 1}, key=ANY, match="subset", headers={"h": "x "})
    message = compare_records("t", "exact", [wrong], actual)
    assert message is not None
    assert message.splitlines()[-1] == (
        "  expected record 1 not found: written record 1 differs at headers.h: "
        'expected "x ", written "x"'
    )


def test_a_windowed_row_not_found_is_explained_and_takes_epoch_seconds() -> None:
    # (review-13m) under match: subset a missing row was a bare "-" line (the written rows
    # hidden, no reason), and `start: 60` never matched the ISO text table dump writes
    rows = [
        {"key": "a", "start": "1970-01-01T00:01:00Z", "end": "1970-01-01T00:02:00Z", "value": 2},
        {"key": "b", "start": "1970-01-01T00:02:00Z", "end": "1970-01-01T00:03:00Z", "value": 1},
    ]
    assert compare_table("w", "exact", [{"key": "a", "start": 60, "end": 120}, {}], rows) is None
    assert compare_table("w", "subset", [{"key": "b", "start": 120.0}], rows) is None
    message = compare_table(
        "w",
        "subset",
        [{"key": "a", "start": 60, "value": 3}, {"key": "c"}, {"key": "b", "end": 1}],
        rows,
    )
    assert message is not None
    assert message.splitlines()[-3:] == [
        "  expected row 1 not found: written row 1 differs at value: expected 3, written 2",
        '  expected row 2: no window of key "c" written',
        '  expected row 3 not found: written row 2 differs at end: expected "1970-01-01T00:00:01Z", '
        'written "1970-01-01T00:03:00Z"',
    ]
    huge = compare_table("w", "subset", [{"key": "a", "start": 10**30}], rows)  # no time
    assert huge is not None and "differs at start: expected 1000000000000000000000000000000" in huge


def _pair_naively(expected: list[Record], actual: list[Actual], per_key: bool, match: str):
    """The pairing as it was written first: every free written record tried in order."""
    from streamctl.pipeline.testdiff import _same
    from streamctl.pipeline.testmatch import canonical

    free = list(range(len(actual)))
    keys = [canonical(a.key) for a in actual]
    pairs = {}
    for i, exp in enumerate(expected):
        for j in free:
            if per_key and any(keys[f] == keys[j] for f in free if f < j):
                continue
            if _same(exp, actual[j], match):
                pairs[i] = j
                free.remove(j)
                break
    return pairs


@pytest.mark.parametrize("seed", range(40))
def test_the_indexed_pairing_pairs_as_trying_every_record_does(seed: int) -> None:
    import random

    from streamctl.pipeline.testdiff import _pair

    rng = random.Random(seed)

    def value() -> object:
        return rng.choice(
            [
                {"a": rng.randint(0, 2), "b": {"c": rng.choice([1, 1.0, True, None])}},
                {"a": rng.randint(0, 2)},
                [rng.randint(0, 1)],
                rng.randint(0, 2),
                {"b": {"c": 1}},
            ]
        )

    actual = [
        Actual(key=rng.choice(["x", "y", None]), value=value(), timestamp=0.0) for _ in range(12)
    ]
    expected = [
        Record(
            value=value(),
            key=rng.choice([ANY, "x", "y", None]),
            match=rng.choice([None, "exact", "subset"]),
        )
        for _ in range(10)
    ]
    for match in ("exact", "unordered", "subset"):
        per_key = match == "exact"
        assert _pair(expected, actual, per_key, match) == _pair_naively(
            expected, actual, per_key, match
        )


@pytest.mark.parametrize("match", ["unordered", "subset"])
def test_thousands_of_records_pair_quickly(match: str) -> None:
    # (review-13m) each expected record was compared with every written one, each time
    # making both values text: 8,000 records took 5 minutes (subset) and over 5 (unordered)
    import time

    n = 8000
    actual = [Actual(key=f"k{i % 7}", value={"i": i, "k": i % 7}, timestamp=0.0) for i in range(n)]
    expected = [Record(value={"i": i, "k": i % 7}, key=ANY) for i in reversed(range(n))]
    started = time.monotonic()
    assert compare_records("t", match, expected, actual) is None
    assert time.monotonic() - started < 20  # about 0.5 s; minutes before
