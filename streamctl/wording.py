"""English for messages: the indefinite article before a word ("an int", "a str")."""

from __future__ import annotations

import re

# spoken with a leading consonant sound although spelled with a vowel
_CONSONANT_SOUND = ("uni", "use", "usu", "uri", "url", "one", "eu")
# letters whose names start with a vowel sound, for an initialism (SQL, HTTP, UUID)
_VOWEL_LETTERS = set("AEFHILMNORSX")
_INITIALISM = re.compile(r"[A-Z]{2}")


def with_article(word: str) -> str:
    """``word`` after "a" or "an" by its sound: ``"int"`` -> ``"an int"``, ``"str"`` ->
    ``"a str"``, ``"Order"`` -> ``"an Order"``, ``"UUID"`` -> ``"a UUID"``,
    ``"HTTPError"`` -> ``"an HTTPError"``, ``"unicode"`` -> ``"a unicode"``. Used wherever
    a message names a type or kind with an article."""
    if _INITIALISM.match(word):  # read letter by letter: "an HTTPError", "a UUID"
        vowel = word[0] in _VOWEL_LETTERS
    else:
        low = word.lower()
        vowel = low[:1] in ("a", "e", "i", "o", "u") and not low.startswith(_CONSONANT_SOUND)
    return f"{'an' if vowel else 'a'} {word}"
