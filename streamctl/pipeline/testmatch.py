"""Compare one expected value of a pipeline test with a written one, exactly or as a subset, naming the first difference.

``subset`` is Redpanda Connect's ``json_contains`` for config unit tests: a mapping
matches when every field it gives is in the written mapping and matches in turn
(recursively: other fields are allowed at every depth); a list matches a list of the
same length whose items match one by one; anything else must be equal. ``exact``
wants equal values. Values are compared as JSON (``canonical``): a record's fields,
a tuple as a list.
"""

from __future__ import annotations

import json
import re
from typing import Any

from streamctl.pipeline.builtins import plain

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def canonical(obj: Any) -> str:
    """One line of JSON for ``obj`` with sorted keys (records as their fields)."""
    return json.dumps(plain(obj), sort_keys=True, ensure_ascii=False, default=str)


def step(path: str, key: Any) -> str:
    """``path`` one field or item further: ``value.total``, ``value.items[0]``,
    ``value["a b"]`` (a key that is not a plain name is quoted)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(str(key), ensure_ascii=False)}]"


def difference(want: Any, got: Any, match: str, path: str = "value") -> str | None:
    """None when ``got`` matches ``want`` under ``match`` (``exact`` or ``subset``);
    else where they first differ and how, e.g. ``value.items[0].sku: expected "pen",
    written "pencil"`` or ``value.total: expected 5, not written``."""
    return _difference(plain(want), plain(got), match == "subset", path)


def matches(want: Any, got: Any, match: str) -> bool:
    """True when ``got`` matches ``want`` under ``match`` (see :func:`difference`)."""
    if match != "subset":
        return canonical(want) == canonical(got)
    return difference(want, got, match) is None


def contains(want: Any, got: Any) -> bool:
    """True when ``got`` matches ``want`` as a subset, both already :func:`plain`: what
    :func:`difference` decides, without writing where they differ (a test pairing
    thousands of records calls this for each pair it tries)."""
    if isinstance(want, dict) and isinstance(got, dict):
        got_keys = {str(k): k for k in got}
        return all(
            str(k) in got_keys and contains(v, got[got_keys[str(k)]]) for k, v in want.items()
        )
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(contains(w, g) for w, g in zip(want, got))
    return canonical(want) == canonical(got)


def _difference(want: Any, got: Any, subset: bool, path: str) -> str | None:
    if isinstance(want, dict) and isinstance(got, dict):
        got_keys = {str(k): k for k in got}
        for k, v in want.items():
            here = step(path, k)
            if str(k) not in got_keys:
                return f"{here}: expected {canonical(v)}, not written"
            found = _difference(v, got[got_keys[str(k)]], subset, here)
            if found:
                return found
        if not subset:
            want_keys = {str(k) for k in want}
            for k in got:
                if str(k) not in want_keys:
                    return f"{step(path, k)}: written {canonical(got[k])}, not expected"
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{path}: expected {len(want)} item(s), written {len(got)}"
        for i, (w, g) in enumerate(zip(want, got)):
            found = _difference(w, g, subset, step(path, i))
            if found:
                return found
        return None
    if canonical(want) != canonical(got):
        return f"{path}: expected {canonical(want)}, written {canonical(got)}"
    return None
