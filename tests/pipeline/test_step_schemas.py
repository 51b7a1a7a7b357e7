"""Every step's argument is checked against its declared ``Step.schema`` (#13): the
offending key or value's file:line:column and what is expected, in validate and run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from support import cli

from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.pipeline.steps import BUILTIN_STEPS, step_class
from streamctl.pipeline.stepschema import fits, schema_problems

PIPE = """\
app: shapes
broker: memory://
topics:
  in: {}
  out: {}
tables:
  t: {default: int}
agents:
  a:
    from: in
    steps:
%s"""


@pytest.mark.parametrize("kind", sorted(BUILTIN_STEPS))
def test_each_builtin_schema_is_a_valid_draft_2020_12_schema(kind: str) -> None:
    cls = step_class(kind)
    assert cls is not None and cls.schema, kind
    Draft202012Validator.check_schema(cls.schema)


def test_run_refuses_a_misshapen_argument_with_its_position_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE % "      - sum: {table: t, value: x, by: y}\n")
    data = tmp_path / "data"
    result = cli("run", path, "-d", data, "--until-idle")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:12:35: unknown key 'by' in sum (known: key, table, value)\n"
    )
    assert not data.exists()


def test_every_misfit_of_one_step_is_reported_at_its_own_key_or_value(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        PIPE
        % (
            "      - lookup: {table: 5, as: 1x, on_missing: drop}\n"
            "      - branch:\n"
            "          - when: 'x > 1'\n"
            "            to: [out, 3]\n"
            "          - default: false\n"
            "            to: out\n"
        )
    )
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert result.stderr.splitlines() == [
        f"{path}:12:25: lookup: table must be a table name, not a number",
        f"{path}:12:32: lookup: as: '1x' is not a field name (a letter, then letters, digits or _)",
        f"{path}:12:48: lookup: on_missing must be one of skip, default, dead_letter, not 'drop'",
        f"{path}:15:23: branch: [0].to[1] must be a topic name, not a number",
        f"{path}:16:22: branch: [1].default must be true, not false",
    ]


def test_set_takes_fields_or_a_table_and_says_which_keys_a_table_needs(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE % "      - set: {y: 'x + 1'}\n      - set: {table: t, value: y}\n")
    assert cli("validate", path).exit_code == 0
    path.write_text(PIPE % "      - set: {table: t}\n")
    result = cli("validate", path)
    assert result.stderr == f"{path}:12:14: set needs value: an expression over the event\n"


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["x", "1x", "t", "table", "value", "key", "as", "when", "default", "to"]),
    st.sampled_from(["each", "steps", "message", "level", "info", "skip", "name", "within"]),
)
_ARGS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(_SCALARS.filter(lambda k: isinstance(k, str)), inner, max_size=4),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(BUILTIN_STEPS)), arg=_ARGS)
def test_the_fast_check_run_uses_agrees_with_jsonschema(kind: str, arg: object) -> None:
    """``run`` checks arguments without importing jsonschema (fits); jsonschema explains
    a misfit. The two must agree on every argument, or run and validate would differ."""
    schema = step_class(kind).schema  # type: ignore[union-attr]
    assert fits(schema, arg) == Draft202012Validator(schema).is_valid(arg)
    assert (schema_problems(kind, schema, arg) == []) == fits(schema, arg)
