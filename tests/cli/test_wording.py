"""Messages name types with the right article: "an int", "a str", "an Order", "a UUID"."""

from __future__ import annotations

import pytest

from streamctl.wording import with_article


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("int", "an int"),
        ("str", "a str"),
        ("Order", "an Order"),
        ("list", "a list"),
        ("object", "an object"),
        ("unicode", "a unicode"),
        ("UUID", "a UUID"),
        ("SQL", "an SQL"),
        ("HTTPError", "an HTTPError"),
        ("Table", "a Table"),
        ("IOError", "an IOError"),
    ],
)
def test_with_article_follows_the_sound_of_the_word(word: str, expected: str) -> None:
    assert with_article(word) == expected
