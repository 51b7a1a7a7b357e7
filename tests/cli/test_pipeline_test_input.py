"""``streamctl test``: test data checked before anything runs, and what reports show (#13)."""

from __future__ import annotations

from pathlib import Path

from support import cli

PIPELINE = """\
app: t-input-{name}
topics:
  orders: {{partitions: 1}}
  out: {{partitions: 1}}
tables:
  revenue: {{default: float}}
agents:
  fw:
    from: orders
    steps:
      - to: out
"""


def write(tmp_path: Path, tests: str, name: str = "p") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(PIPELINE.format(name=name) + tests)
    return path


def test_text_report_escapes_control_characters_in_names_and_failures(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'tests:\n  - name: "evil \\e[31mred\\e[0m"\n'
        "    input:\n      orders:\n"
        '        - {key: "k\\e]0;title\\a", value: {a: 1}}\n'
        "    expect:\n      topics:\n"
        '        out: [{key: "k\\e[2J", value: {a: 1}}]\n',
        "esc",
    )
    result = cli("test", path)
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert f"FAIL {path}: evil \\x1b[31mred\\x1b[0m ({path}:" in result.stdout
