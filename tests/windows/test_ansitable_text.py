"""A windowed table's ``as_ansitable()`` prints keys, values and title as data (review-12b):
rich markup (``[/x]`` raised MarkupError) and emoji codes (``:x:``) are not interpreted."""

from __future__ import annotations

from streamctl.tables.windows.display import dict_as_ansitable


def test_markup_and_emoji_codes_in_keys_values_and_title_are_printed_as_written() -> None:
    out = dict_as_ansitable({"[/x]": 1, ":x:": "[bold]b"}, title="[red]T :smile:", key="[k]")
    for text in ("[/x]", ":x:", "[bold]b", "[red]T :smile:", "[k]"):
        assert text in out
