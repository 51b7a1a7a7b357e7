"""``validate`` reports at once, sorted, everything ``run`` would refuse (#10)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import ROOT, cli

from streamctl.cli.validate import PROBLEMS_FOUND

BROKEN = """\
app: x
broker: {broker}
settings:
  commit_interval: banana
  max_poll_records: 0
  processing_guarantee: exactly_once
broker_settings:
  linger: 5
models:
  M:
    fields:
      name: {{type: str, pattern: "^a"}}
      n: {{type: int, min: 1}}
topics:
  a: {{value_type: M}}
tables:
  t: {{default: flaot}}
  s: {{default: "n/a"}}
agents:
  p:
    from: nope
    use: nosuchmod:f
  q:
    from: a
    steps:
      - count: s
"""
COMMON = [
    "4:20: setting commit_interval must be a number of seconds >= 0, not 'banana'",
    "5:21: setting max_poll_records must be a whole number >= 1, not 0",
]
LATER = [
    "12:25: warning: model 'M' field 'name': pattern is never checked without options: "
    "{validation: true}",
    "13:22: warning: model 'M' field 'n': min is never checked without options: {validation: true}",
    "17:16: unknown default factory 'flaot' (did you mean 'float'?); factories: int, float, "
    "str, list, dict, set",
    "18:17: table 's' has default 'n/a', not a number, but agent 'q' step 1 (count) adds "
    "into it: use default: int, float or a number",
    "21:11: agent 'p' reads undeclared topic 'nope'",
    "22:10: cannot import plugin module 'nosuchmod': no such module",
]


@pytest.mark.parametrize(
    "broker,specific",
    [
        (
            "local://",
            # local:// has transactions (#9): exactly_once is fine there
            ["8:3: local:// takes no broker settings"],
        ),
        (
            "kafka://localhost:9092",
            ["8:3: unknown kafka:// broker setting 'linger' (did you mean 'linger_ms'?)"],
        ),
    ],
)
def test_every_problem_at_once_sorted_by_line(
    tmp_path: Path, broker: str, specific: list[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(BROKEN.format(broker=broker))
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert result.stderr.splitlines() == [f"{path}:{line}" for line in COMMON + specific + LATER]
    assert result.stdout == ""


def test_an_unknown_broker_scheme_is_named_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("app: x\nbroker: kafak://h:9092\n")
    result = cli("validate", path)
    assert (result.exit_code, result.stderr) == (
        PROBLEMS_FOUND,
        f"{path}:2:9: unknown broker scheme 'kafak' (known: kafka, kafka+confluent, local, memory) "
        "(did you mean 'kafka'?)\n",
    )
    path.write_text("app: x\nbroker: rabbit://localhost\n")
    assert cli("validate", path).stderr == (
        f"{path}:2:9: unknown broker scheme 'rabbit' (known: kafka, kafka+confluent, local, memory)\n"
    )
    # from the command line, the problem names the option, not a line of the file
    result = cli("validate", ROOT / "pipelines" / "quickstart.yaml", "-b", "kafak://h:9092")
    assert (result.exit_code, result.stderr) == (
        2,
        "--broker: unknown broker scheme 'kafak' (known: kafka, kafka+confluent, local, memory) "
        "(did you mean 'kafka'?)\n",
    )


def test_broker_settings_from_the_command_line_are_checked_for_every_broker(
    tmp_path: Path,
) -> None:
    quickstart = ROOT / "pipelines" / "quickstart.yaml"
    data = tmp_path / "data"
    engine = (
        "--broker-setting commit_interval: local:// takes no broker settings; "
        "commit_interval is an engine setting: put it under settings:"
    )
    result = cli("run", quickstart, "-S", "commit_interval=banana", "-d", data, "--until-idle")
    assert (result.exit_code, result.stderr) == (2, f"error: {engine}\n")
    assert not data.exists()
    result = cli("validate", quickstart, "-S", "commit_interval=banana")
    assert (result.exit_code, result.stderr) == (2, f"{engine}\n")
    result = cli("validate", quickstart, "-b", "kafka://localhost:9092", "-S", "lingr_ms=5")
    assert (result.exit_code, result.stderr) == (
        2,
        "--broker-setting lingr_ms: unknown kafka:// broker setting 'lingr_ms' "
        "(did you mean 'linger_ms'?)\n",
    )
    assert (
        cli("validate", quickstart, "-b", "kafka://localhost:9092", "-S", "linger_ms=5").exit_code
        == 0
    )


def test_a_warning_does_not_fail_validate(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "app: x\nmodels:\n  M:\n    fields:\n      n: {type: int, min: 1}\n"
        "topics:\n  a: {value_type: M}\n"
    )
    result = cli("validate", path)
    assert result.exit_code == 0
    assert result.stderr == (
        f"{path}:5:22: warning: model 'M' field 'n': min is never checked without options: "
        "{validation: true}\n"
    )
    path.write_text(path.read_text().replace("  M:\n", "  M:\n    options: {validation: true}\n"))
    result = cli("validate", path)
    assert (result.exit_code, result.stderr, result.stdout) == (0, "", f"ok: {path}\n")


#: files ``run`` refuses as bad input: ``validate`` must refuse each, for the same first reason
REFUSED = {
    "scheme": "app: x\nbroker: rabbit://h\n",
    "app-id": "app: 'a b/c'\ntopics: {a: {}}\ntables: {t: {default: int}}\n"
    "agents: {f: {from: a, steps: [count: t]}}\n",
    "app-id-empty": "app: ''\n",
    "kafka-credentials": "app: x\nbroker: kafka://u:p@h:9092\n",
    "exactly-once": "app: x\nbroker: memory://\nsettings: {processing_guarantee: exactly_once}\n",
    "guarantee": "app: x\nsettings: {processing_guarantee: twice}\n",
    "setting": "app: x\nsettings: {poll_timeout: -1}\n",
    "standby": "app: x\nsettings: {table_standby_replicas: -1}\n",
    "broker-setting": "app: x\nbroker_settings: {acks: 1}\n",
    "store": "app: x\nsettings: {table_store: 'nope://'}\ntopics: {a: {}}\n"
    "tables: {t: {default: int}}\nagents: {f: {from: a, steps: [count: t]}}\n",
    "store-type": "app: x\nsettings: {table_store: 5}\ntables: {t: {default: int}}\n",
    "worker-id": "app: x\nsettings: {worker_id: [1]}\n",
    "factory": "app: x\ntables: {t: {default: flaot}}\n",
    "count-default": "app: x\ntopics: {a: {}}\ntables: {t: {default: abc}}\n"
    "agents: {f: {from: a, steps: [count: t]}}\n",
    "add-default": "app: x\ntopics: {a: {}}\ntables: {t: {default: [1]}}\n"
    "agents: {f: {from: a, steps: [add: {table: t, value: x}]}}\n",
    "hidden": "app: x\ntopics: {a: {}}\ntables: {t: {default: flaot}}\n"
    "agents: {f: {from: b, use: 'nosuch:f'}, g: {from: a, use: 'plug:sync'}}\n",
    "sync-plugin": "app: x\ntopics: {a: {}}\nagents: {f: {from: a, use: 'plug:sync'}}\n",
    "empty-plugin": "app: x\ntopics: {a: {}}\nagents: {f: {from: a, use: 'empty:f'}}\n",
    "no-args-plugin": "app: x\ntopics: {a: {}}\nagents: {f: {from: a, use: 'plug:noargs'}}\n",
    "syntax-plugin": "app: x\ntopics: {a: {}}\nagents: {f: {from: a, use: 'broken:f'}}\n",
    "model": "app: x\nmodels: {M: {fields: {a: {type: int, min: 5, max: 1}}}}\n",
    "model-file": "app: x\nmodels: ../m.yaml\n",
    "unknown-type": "app: x\ntopics: {a: {value_type: Mdoel}}\n",
    "expression": "app: x\ntopics: {a: {}}\nagents: {f: {from: a, steps: [filter: \"'%d' % 1\"]}}\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_validate_refuses_what_run_refuses_for_the_same_reasons(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (tmp_path / "m.yaml").write_text("M: {fields: {a: int}}\n")
    (folder / "plug.py").write_text(
        "def sync(stream):\n    pass\n\nasync def noargs():\n    pass\n"
    )
    (folder / "broken.py").write_text("async def f(stream)\n    pass\n")
    (folder / "empty.py").write_text("")
    path = folder / f"{name}.yaml"
    path.write_text(REFUSED[name])
    checked = cli("validate", path)
    problems = [line for line in checked.stderr.splitlines() if ": warning: " not in line]
    assert checked.exit_code == PROBLEMS_FOUND and problems, checked.stderr
    data = tmp_path / "data"
    ran = cli("run", path, "-d", data, "--until-idle")
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    assert (ran.exit_code, ran.stderr) == (2, f"error: {problems[0]}{more}\n")
    assert not data.exists()


def test_one_problem_does_not_hide_others(tmp_path: Path) -> None:
    (tmp_path / "plug.py").write_text("def sync(stream):\n    pass\n")
    path = tmp_path / "p.yaml"
    path.write_text(REFUSED["hidden"])
    agents = REFUSED["hidden"].splitlines()[3]
    topic, plugin, sync = (agents.index(at) + 1 for at in ("b,", "nosuch:", "plug:"))
    result = cli("validate", path)
    assert result.stderr.splitlines() == [
        f"{path}:3:23: unknown default factory 'flaot' (did you mean 'float'?); "
        "factories: int, float, str, list, dict, set",
        f"{path}:4:{topic}: agent 'f' reads undeclared topic 'b'",
        f"{path}:4:{plugin}: cannot import plugin module 'nosuch': no such module",
        f"{path}:4:{sync}: plugin 'plug:sync' must be an async function "
        "taking a stream (async def f(stream))",
    ]


def test_validate_takes_a_folder_and_writes_nothing(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = cli("validate", tmp_path / "pipelines")
    # every pipeline file in the folder (not the model files under models/)
    names = sorted(p.name for p in (ROOT / "pipelines").glob("*.yaml"))
    assert "quickstart.yaml" in names
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [f"ok: {tmp_path / 'pipelines' / n}" for n in names]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_misspelt_type_names_get_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "app: x\nmodels: {Order: {fields: {a: int}}}\ntopics: {a: {value_type: Ordr}}\n"
        "tables: {t: {value_type: flaot}}\n"
    )
    known = "(known: str, bytes, json, int, float, bool, Order)"
    result = cli("validate", path)
    assert (result.exit_code, result.stderr.splitlines()) == (
        PROBLEMS_FOUND,
        [
            f"{path}:3:26: unknown type 'Ordr' {known} (did you mean 'Order'?)",
            f"{path}:4:26: unknown type 'flaot' {known} (did you mean 'float'?)",
        ],
    )


def test_validate_reads_which_tables_an_unimported_plugin_names(tmp_path: Path) -> None:
    """validate imports no plugin, yet checks its tables' partitions as run does: the
    plugin's source names ``stream.app.tables["counts"]`` (and ``.get("totals")``)."""
    from streamctl.pipeline.plugins import check_agent

    (tmp_path / "plug_tables_named.py").write_text(
        "async def count(stream):\n"
        "    counts = stream.app.tables['counts']\n"
        "    async for key, value in stream.items():\n"
        "        counts[key] += 1\n"
        "        stream.app.tables.get('totals')\n"
        "        other = {'tables': 1}['tables']\n"
    )
    named = check_agent("plug_tables_named:count", search_dir=tmp_path)
    assert named == {"counts", "totals"}


def test_a_dead_letter_topic_an_agent_reads_is_refused(tmp_path: Path) -> None:
    """A parked record would come back to the agent that parked it, forever (#9)."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "app: x\ntopics: {ev: {partitions: 1}}\ntables: {counts: {default: int}}\n"
        "agents:\n  cnt: {from: ev, dead_letter: ev, steps: [{count: counts}]}\n"
    )
    for command in (["validate", path], ["run", path, "--until-idle", "-d", tmp_path / "d"]):
        result = cli(*command)
        assert result.exit_code == (PROBLEMS_FOUND if command[0] == "validate" else 2)
        assert f"{path}:5:32: agent 'cnt' parks failed records in 'ev', which agent 'cnt'" in (
            result.stderr
        )
    assert not (tmp_path / "d").exists()


def test_a_plugin_bound_to_another_name_is_checked_as_the_function_it_names(
    tmp_path: Path,
) -> None:
    """(#10 review) `f2 = f` passed validate while run refused the f it names."""
    (tmp_path / "plug_alias_f2.py").write_text(
        "async def f(stream, extra):\n    pass\nf2 = f\n"
        "async def g(stream):\n    async for e in stream:\n        pass\ng2 = g\n"
    )
    for use, code in (("plug_alias_f2:f2", PROBLEMS_FOUND), ("plug_alias_f2:g2", 0)):
        path = tmp_path / "p.yaml"
        path.write_text(f'app: x\ntopics: {{ev: {{}}}}\nagents:\n  a: {{from: ev, use: "{use}"}}\n')
        assert cli("validate", path).exit_code == code, use


def test_formats_json_and_github_report_the_same_problems(tmp_path: Path) -> None:
    """(#13) --format json for tools, github for workflow annotations; exit 1 on problems."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("app: x\ntopics:\n  a: {partitions: 0}\n")
    good = tmp_path / "good.yaml"
    good.write_text("app: y\ntopics: {a: {}}\n")
    text = cli("validate", bad, good)
    assert (text.exit_code, text.stderr) == (
        PROBLEMS_FOUND,
        f"{bad}:3:19: partitions must be at least 1, not 0\n",
    )
    got = cli("validate", str(tmp_path / "*.yaml"), "--format", "json")
    assert got.exit_code == PROBLEMS_FOUND
    assert json.loads(got.stdout) == {
        "ok": False,
        "files": [
            {
                "file": str(bad),
                "ok": False,
                "problems": [
                    {
                        "file": str(bad),
                        "line": 3,
                        "column": 19,
                        "severity": "error",
                        "message": "partitions must be at least 1, not 0",
                    }
                ],
            },
            {"file": str(good), "ok": True, "problems": []},
        ],
    }
    gh = cli("validate", tmp_path, "-f", "github")
    escaped = str(bad).replace(":", "%3A").replace(",", "%2C")
    assert (gh.exit_code, gh.stdout) == (
        PROBLEMS_FOUND,
        f"::error file={escaped},line=3,col=19::partitions must be at least 1, not 0\n",
    )
    assert cli("validate", good, "-f", "json").exit_code == 0


def test_usage_errors_exit_2_not_1(tmp_path: Path) -> None:
    """(#13) 2 is for a mistake on the command line, 1 for problems found in files."""
    nothing = cli("validate", str(tmp_path / "*.yaml"))
    assert nothing.exit_code == 2 and "no file matches this pattern" in nothing.stderr
    assert cli("validate", tmp_path).exit_code == 2  # a folder with no pipeline file
    assert cli("validate", tmp_path / "x.yaml", "-f", "xml").exit_code == 2


def test_validate_finds_a_plugin_package_installed_in_editable_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(review-13m) `pip install -e .` puts a finder on sys.meta_path, not the source
    folder on sys.path: validate outside the repo said the built-in `use: log`
    (streamctl.pipeline.builtins) was "no such module" while run ran it."""
    import importlib.machinery
    import sys

    from streamctl.pipeline.plugins import check_agent

    source = tmp_path / "src"
    (source / "r13m_editable_pkg").mkdir(parents=True)
    (source / "r13m_editable_pkg" / "__init__.py").write_text("")
    (source / "r13m_editable_pkg" / "agents.py").write_text("async def fwd(stream):\n    pass\n")

    class EditableFinder:  # as setuptools' __editable___*_finder: one package, by name
        @staticmethod
        def find_spec(name: str, path: object = None, target: object = None) -> object:
            if name != "r13m_editable_pkg":
                return None
            return importlib.machinery.PathFinder.find_spec(name, [str(source)])

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, EditableFinder])
    (tmp_path / "pipelines").mkdir()
    assert check_agent("r13m_editable_pkg.agents:fwd", search_dir=tmp_path / "pipelines") == (
        frozenset()
    )
    assert "r13m_editable_pkg" not in sys.modules  # found, never imported
