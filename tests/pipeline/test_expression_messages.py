"""Run-time refusals of expressions say what went wrong in our words (#13): a number too
large for text, a string function given a number, a table read with a list key; each
event is dead-lettered with that reason, and the library raises the same message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import cli, read_topic

from streamctl.pipeline.expressions import compile_expression

PIPELINE = """
app: msgs13
topics:
  events: {}
  out: {}
tables:
  t: {}
agents:
  a:
    from: events
    dead_letter: events-invalid
    steps:
      - map: {r: '%s'}
      - to: out
"""
BIG = "9" * 3000


@pytest.mark.parametrize(
    ("expression", "event", "reason"),
    [
        ("str(int(big) * int(big))", {"big": BIG}, "number too large to convert to text"),
        ("upper(n)", {"n": 3}, "upper() needs text, not int"),
        ("lookup(''t'', xs)", {"xs": [1, 2]}, "lookup(): a table key must be text"),
        ("table(''t'')[xs]", {"xs": [1]}, "table(): a table key must be text"),
    ],
)
def test_a_refused_event_is_dead_lettered_with_a_reason_in_our_words(
    tmp_path: Path, expression: str, event: dict, reason: str
) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE % expression)
    data = tmp_path / "data"
    lines = [event, {"n": "ok", "big": "1", "xs": "k"}]
    send = cli("send", "events", "-p", pipeline, "-d", data, "--file", "-",
               input="".join(json.dumps(x) + "\n" for x in lines))  # fmt: skip
    assert send.exit_code == 0, send.output
    result = cli("run", pipeline, "-d", data, "--until-idle")
    assert result.exit_code == 0, result.output
    dead = read_topic(data, "events-invalid")
    assert [json.loads(m.value) for m in dead] == [event]
    why = dict(dead[0].headers)["streamctl.error"].decode()
    assert reason in why, why
    assert "sys." not in why and "set_int_max_str_digits" not in why
    assert len(read_topic(data, "out")) == 1  # the good event went on


def test_string_functions_refuse_non_text_and_keep_a_missing_field_missing() -> None:
    for name in ("lower", "upper", "strip", "split"):
        with pytest.raises(ValueError, match=rf"^{name}\(\) needs text, not float"):
            compile_expression(f"{name}(x)")({"x": 1.5})
        assert compile_expression(f"{name}(x)")({}) is None
    with pytest.raises(ValueError, match="startswith"):
        compile_expression("startswith(x, 'a')")({"x": 1})
    assert compile_expression("upper(x)")({"x": "ab"}) == "AB"
