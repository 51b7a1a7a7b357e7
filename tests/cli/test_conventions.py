"""One set of conventions across commands: exit codes, --format/-f, help, README's table (#10)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main
from support import ROOT, cli

from streamctl.cli.main import app as cli_app

REVENUE = ROOT / "pipelines" / "revenue.yaml"


def commands() -> dict[tuple[str, ...], object]:
    """Every leaf command of the Typer app, by its path (``("table", "get")``)."""
    found: dict[tuple[str, ...], object] = {}
    stack: list[tuple[tuple[str, ...], object]] = [((), typer.main.get_command(cli_app))]
    while stack:
        path, cmd = stack.pop()
        subs = getattr(cmd, "commands", None)
        if subs:
            stack.extend((path + (name,), sub) for name, sub in subs.items())
        else:
            found[path] = cmd
    return found


def groups() -> list[tuple[str, ...]]:
    return sorted({path[:-1] for path in commands() if len(path) > 1})


def readme_cli_rows() -> list[str]:
    """The first cells of README's CLI table (`streamctl ...`)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## The CLI", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(streamctl [^`]*)` \|", section, flags=re.M)


def test_readme_cli_table_lists_exactly_the_commands_and_their_options() -> None:
    rows = readme_cli_rows()
    documented: dict[tuple[str, ...], str] = {}
    for row in rows:
        words = row.split()[1:]
        path = tuple(w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w))
        if path and path[0] not in {p[0] for p in commands() if len(p) > 1}:
            path = path[:1]
        assert path not in documented, f"README lists streamctl {' '.join(path)} twice"
        documented[path] = row
    assert sorted(documented) == sorted(commands())
    for path, row in documented.items():
        cmd = commands()[path]
        options = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}  # type: ignore[attr-defined]
        for option in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", row):
            assert option in options, f"README: streamctl {' '.join(path)} has no {option}"


def test_every_command_and_group_has_help_with_an_example_and_readable_metavars() -> None:
    for path in [*commands(), *groups()]:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "Example: streamctl " in result.stdout, f"streamctl {' '.join(path)} --help"
        assert "<" not in result.stdout and "list[" not in result.stdout, result.stdout


def test_dash_f_means_format_in_every_command() -> None:
    with_format = []
    for path, cmd in commands().items():
        for param in cmd.params:  # type: ignore[attr-defined]
            if "-f" in param.opts:
                assert "--format" in param.opts, f"streamctl {' '.join(path)}: -f is {param.opts}"
                with_format.append(path)
    assert {("table", "get"), ("table", "set"), ("table", "del"), ("topic", "list")} <= set(
        with_format
    )


def sends(tmp_path: Path, *args: str, input: str | None = None) -> object:
    return cli("send", *args, "-d", tmp_path / "data", input=input)


BAD_INPUT = [
    # (argv, stdin, exit code, message on stderr)
    (["send", "t", "--partitions", "1", "--file", "{bad}"], None, 2, "bad.jsonl:2:9: invalid JSON"),
    (["send", "t", "--partitions", "1", "-"], '{"a": 1}\n[1,\n', 2, "<stdin>:2:"),
    (
        ["send", "t", "--partitions", "1", '{"a": 1}', "-k", "x", "--key-field", "a"],
        None,
        2,
        "not both",
    ),
    (["send", "t", "--partitions", "1", "--file", "{missing}"], None, 2, "cannot read"),
    (["send", "t", "--partitions", "1"], None, 2, "nothing to send"),
    (["send", "nowhere", "{}"], None, 2, "topic 'nowhere' does not exist"),
    (
        ["send", "t", "{}", "--partitions", "1", "-d", "/proc/streamctl-nope"],
        None,
        2,
        "cannot create",
    ),
    (["topic", "tail", "t", "-n", "-1"], None, 2, "-n"),
    (["topic", "tail", "nowhere"], None, 2, "topic 'nowhere' does not exist"),
    (["topic", "tail", "t", "--offset", "3"], None, 2, "--offset needs --partition"),
    (["topic", "tail", "t", "--partition", "7"], None, 2, "no partition 7"),
    (["topic", "list", "-f", "xml"], None, 2, "xml"),
    (["table", "get", "{revenue}", "nope", "ada"], None, 2, "has no table 'nope'"),
    (["table", "get", "{revenue}", "orders_per_customer", "nobody"], None, 1, "has no key"),
    (
        ["table", "set", "{revenue}", "orders_per_customer", "ada", "abc"],
        None,
        2,
        "holds int values",
    ),
    (
        ["table", "set", "{revenue}", "orders_per_customer", "ada", "1.5"],
        None,
        2,
        "holds int values",
    ),
    (["table", "set", "{revenue}", "revenue_per_customer", "ada", '"x"'], None, 2, "holds float"),
    (["table", "set", "{revenue}", "products_per_customer", "ada", "[1]"], None, 2, "holds str"),
    (["table", "dump", "{revenue}", "orders_per_customer", "-f", "csv"], None, 2, "csv"),
    (["run", "{missing}"], None, 2, ""),
    (["run", "{revenue}", "-d", "/proc/streamctl-nope", "--until-idle"], None, 2, "cannot create"),
    (["schema", "export", "{missing}", "--out", "{empty}"], None, 2, "missing.yaml"),
]


@pytest.mark.parametrize("argv,stdin,code,message", BAD_INPUT)
def test_error_paths_exit_2_for_bad_input_and_1_at_run_time(
    tmp_path: Path, argv: list[str], stdin: str | None, code: int, message: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": 2,\n')
    names = {
        "bad": str(bad),
        "missing": str(tmp_path / "missing.yaml"),
        "revenue": str(REVENUE),
        "empty": str(tmp_path / "schemas"),
    }
    assert cli("send", "t", "--partitions", "2", "{}", "-d", tmp_path / "data").exit_code == 0
    args = [
        a.format(**names) if a.startswith("{") and a.endswith("}") and a[1:-1] in names else a
        for a in argv
    ]
    if "-d" not in args and args[0] != "schema":
        args += ["-d", str(tmp_path / "data")]
    result = cli(*args, input=stdin)
    assert result.exit_code == code, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    if code:
        errors = [
            line for line in result.stderr.splitlines() if line.startswith(("error:", "Error:"))
        ]
        assert len(errors) == 1, result.stderr  # one line (click's usage errors add a usage)


def test_schema_check_exits_1_when_stale_as_its_help_says(tmp_path: Path) -> None:
    orders = ROOT / "pipelines" / "orders.yaml"
    result = cli("schema", "check", orders, "--dir", tmp_path)
    assert result.exit_code == 1
    assert "stale or missing" in result.stderr and "schema(s) out of date" in result.stderr
    assert "exit 1" in cli("schema", "check", "--help").stdout


def test_send_dash_reads_stdin_and_key_options_are_exclusive(tmp_path: Path) -> None:
    lines = '{"n": 1}\n{"n": 2}\n'
    sent = cli("send", "s", "-", "--partitions", "1", "-k", "a", "-d", tmp_path, input=lines)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout == "sent 2 record(s) to s\n"
    tail = cli("topic", "tail", "s", "-d", tmp_path)
    assert [json.loads(line)["value"] for line in tail.stdout.splitlines()] == [{"n": 1}, {"n": 2}]
    both = cli("send", "s", "-", "--file", "-", "-d", tmp_path, input=lines)
    assert both.exit_code == 2


def test_table_get_set_del_take_format(tmp_path: Path) -> None:
    args = ("-d", tmp_path)
    put = cli("table", "set", REVENUE, "orders_per_customer", "ada", "3", "-f", "jsonl", *args)
    assert (
        put.stdout
        == '{"action": "set", "table": "orders_per_customer", "key": "ada", "value": 3}\n'
    )
    human = cli("table", "set", REVENUE, "orders_per_customer", "bo", "4", "-f", "table", *args)
    assert human.stdout == 'set orders_per_customer["bo"]\n'
    assert cli("table", "get", REVENUE, "orders_per_customer", "ada", *args).stdout == "3\n"
    got = cli("table", "get", REVENUE, "orders_per_customer", "ada", "-f", "jsonl", *args)
    assert json.loads(got.stdout) == {"key": "ada", "value": 3}
    table = cli("table", "get", REVENUE, "orders_per_customer", "ada", "--format", "table", *args)
    assert table.stdout.splitlines() == ["key  value", "---  -----", "ada  3"]
    gone = cli("table", "del", REVENUE, "orders_per_customer", "ada", "-f", "json", *args)
    assert json.loads(gone.stdout) == {
        "action": "del",
        "table": "orders_per_customer",
        "key": "ada",
    }
    listed = cli("table", "list", REVENUE, "-f", "jsonl", *args)
    assert [json.loads(line)["table"] for line in listed.stdout.splitlines()] == [
        "orders_per_customer",
        "products_per_customer",
        "revenue_per_customer",
    ]


def test_table_set_checks_the_value_against_the_table_type(tmp_path: Path) -> None:
    args = ("-d", tmp_path)
    refused = cli("table", "set", REVENUE, "orders_per_customer", "ada", "abc", *args)
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: table 'orders_per_customer' holds int values; value \"abc\" is not one\n"
    )
    # nothing was written: the table is still empty, and a worker runs fine afterwards
    assert cli("table", "dump", REVENUE, "orders_per_customer", *args).stdout == "{}\n"
    assert cli("table", "set", REVENUE, "revenue_per_customer", "ada", "2", *args).exit_code == 0
    assert cli("table", "get", REVENUE, "revenue_per_customer", "ada", *args).stdout == "2.0\n"
    # a set table: one member stays one member; a JSON array is a set of members
    assert cli("table", "set", REVENUE, "products_per_customer", "ada", "pen", *args).exit_code == 0
    assert json.loads(
        cli("table", "get", REVENUE, "products_per_customer", "ada", *args).stdout
    ) == ["pen"]
    assert (
        cli(
            "table", "set", REVENUE, "products_per_customer", "bo", '["pen", "ink"]', *args
        ).exit_code
        == 0
    )
    assert json.loads(
        cli("table", "get", REVENUE, "products_per_customer", "bo", *args).stdout
    ) == [
        "ink",
        "pen",
    ]


def test_topic_list_takes_format_and_json_stays_a_hidden_alias(tmp_path: Path) -> None:
    cli("send", "a", '{"x": 1}', "--partitions", "3", "-d", tmp_path)
    table = cli("topic", "list", "-f", "table", "-d", tmp_path)
    assert table.stdout.splitlines() == [
        "topic  partitions  compacting  records",
        "-----  ----------  ----------  -------",
        "a      3                       1",
    ]
    default = json.loads(cli("topic", "list", "-d", tmp_path).stdout)
    assert default == json.loads(cli("topic", "list", "--json", "-d", tmp_path).stdout)
    assert "--json" not in cli("topic", "list", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["topic", "create", "t", "--partitions", "99999999"], "must be from 1 to 10,000"),
        (["send", "t", "1", "--partitions", "99999999"], "must be from 1 to 10,000"),
        (["send", "t", "1", "--partitions", "-2"], "must be from 1 to 10,000, not -2"),
        (["send", "t", "--file", "/dev/zero"], "cannot read /dev/zero: not a regular file"),
        (["topic", "list", "-b", "kafka://u:pw@[::1"], "is malformed (Invalid IPv6 URL)"),
    ],
)
def test_bad_input_found_in_review_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """(#10 review) unbounded partition counts, non-files and malformed URLs."""
    result = cli(*args, "-d", str(tmp_path / "d"))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert ":pw@" not in result.stderr


def test_validate_of_a_folder_without_pipeline_files_fails(tmp_path: Path) -> None:
    """A CI check that passes with nothing checked is worse than one that fails."""
    (tmp_path / "x.yaml").mkdir()
    result = cli("validate", tmp_path)
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"error: {tmp_path}: no pipeline files (*.yaml, *.yml) here",
    )


def test_a_topic_spec_bounds_partitions_for_every_caller() -> None:
    from streamctl.exceptions import ConfigurationError
    from streamctl.transport.base import TopicSpec

    for bad in (0, -1, 10_001, True):
        with pytest.raises(ConfigurationError, match="partitions must be a whole number"):
            TopicSpec("t", bad)
    assert TopicSpec("t", 10_000).partitions == 10_000


def test_group_commands_take_the_same_formats_as_the_rest(tmp_path: Path) -> None:
    """(#10 review) `-f` offers json, jsonl and table in every command."""
    data = ["-d", str(tmp_path / "d")]
    assert cli("send", "ev", '{"a": 1}', "--partitions", "1", *data).exit_code == 0
    for fmt in ("json", "jsonl", "table"):
        assert cli("group", "list", "-f", fmt, *data).exit_code == 0, fmt
    assert cli("group", "list", "-f", "text", *data).exit_code == 2
