"""``streamctl run`` on the embedded broker imports only what the pipeline uses (#14).

Each case runs the real command in a subprocess and looks at ``sys.modules`` once the
run is over: the Typer command tree, rich, pydantic, jsonschema and kafka-python stay
unimported on a plain ``run`` of a ``local://`` pipeline. Timing is bench/startup.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from support import ROOT, streamctl_process, values

from streamctl.app import App

#: run ``streamctl ARGV...`` (python -m streamctl.cli.main) in this interpreter, then
#: print the exit code and which of the heavy top-level packages got imported
PROBE = """
import json, runpy, sys
sys.argv = ["streamctl", *sys.argv[1:]]
try:
    runpy.run_module("streamctl.cli.main", run_name="__main__")
    code = 0
except SystemExit as exc:
    code = exc.code
heavy = ("typer", "click", "rich", "pydantic", "jsonschema", "kafka", "streamctl.cli.commands")
print(json.dumps({"code": code, "imported": [m for m in heavy if m in sys.modules]}))
"""

PIPELINE = """\
app: fast-start
broker: local://
topics:
  orders: {partitions: 2}
  big: {partitions: 2}
agents:
  big:
    from: orders
    steps:
      - filter: "total >= 100"
      - to: big
"""


def probe(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    assert proc.stdout, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["stderr"] = proc.stderr
    return result


def seed(tmp_path: Path) -> Path:
    path = tmp_path / "fast.yaml"
    path.write_text(PIPELINE)
    app = App("seed", datadir=tmp_path / "data")
    app.topic("orders", partitions=2)
    app.ensure_topics()
    for i, total in enumerate([50, 150, 250]):
        app.producer.send("orders", f"c{i}".encode(), json.dumps({"total": total}).encode())
    app.producer.flush()
    app.close()
    return path


def test_run_on_the_embedded_broker_imports_no_heavy_package(tmp_path: Path) -> None:
    path = seed(tmp_path)
    result = probe(tmp_path, "run", str(path), "-d", str(tmp_path / "data"), "--until-idle")
    assert result["code"] == 0, result["stderr"]
    assert result["imported"] == []
    assert sorted(v["total"] for v in values(tmp_path / "data", "big")) == [150, 250]
    assert "processed 3 source event(s)" in str(result["stderr"])


def test_options_in_every_spelling_and_the_environment(tmp_path: Path) -> None:
    path = seed(tmp_path)
    result = probe(
        tmp_path,
        "run",
        "--log-level=warning",
        str(path),
        "--until-idle",
        env={"STREAMCTL_DATADIR": str(tmp_path / "data")},
    )
    assert result["code"] == 0, result["stderr"]
    assert result["imported"] == []
    assert "processed" not in str(result["stderr"])  # warning and up only
    assert len(values(tmp_path / "data", "big")) == 2
    # -S reaches the pipeline's loader, which refuses it for the embedded broker
    setting = probe(tmp_path, "run", str(path), "-d", str(tmp_path / "data"), "-S", "acks=1")
    assert setting["code"] == 2
    assert "error: --broker-setting acks: local:// takes no broker settings" in str(
        setting["stderr"]
    )


def test_bad_input_is_one_line_and_exit_2_without_typer(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("app: x\nagents:\n  a: {from: nowhere, steps: [{filter: 'x >'}]}\n")
    result = probe(tmp_path, "run", str(bad), "-d", str(tmp_path / "data"))
    assert result["code"] == 2
    lines = str(result["stderr"]).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.yaml:" in lines[0]
    assert "Traceback" not in str(result["stderr"])


def test_anything_else_goes_through_typer(tmp_path: Path) -> None:
    path = seed(tmp_path)
    help_ = probe(tmp_path, "run", "--help")
    assert help_["code"] == 0 and "typer" in help_["imported"]
    unknown = probe(tmp_path, "run", str(path), "--no-such-option")
    assert unknown["code"] == 2 and "No such option" in str(unknown["stderr"])
    two = probe(tmp_path, "run", str(path), str(path))
    assert two["code"] == 2 and "unexpected extra argument" in str(two["stderr"]).lower()
    level = probe(tmp_path, "run", str(path), "--log-level", "loud")
    assert level["code"] == 2 and "unknown log level" in str(level["stderr"])


def test_the_streamctl_script_takes_the_quick_path_too(tmp_path: Path) -> None:
    path = seed(tmp_path)
    proc = streamctl_process("run", path, "-d", tmp_path / "data", "--until-idle", cwd=ROOT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "processed 3 source event(s)" in err


def test_the_quick_path_knows_every_option_of_run() -> None:
    """``_VALUE_OPTIONS`` and ``_FLAGS`` list every option of the Typer ``run`` command
    (but ``--help``): an option added to one and not the other fails here (#15 review)."""
    import typer.main

    from streamctl.cli import main as quick
    from streamctl.cli.commands import app

    group: Any = typer.main.get_command(app)
    run = group.get_command(None, "run")
    values, flags = set(), set()
    for param in run.params:
        names = {*param.opts, *param.secondary_opts}
        if getattr(param, "is_flag", False):
            flags |= names
        elif param.param_type_name == "option":
            values |= names
            for name in names:
                assert quick._VALUE_OPTIONS.get(name) == param.name, name
    assert set(quick._VALUE_OPTIONS) == values
    assert set(quick._FLAGS) == flags - {"--help"}
    assert all(quick._FLAGS[f] in {p.name for p in run.params} for f in quick._FLAGS)


def test_the_production_options_take_the_quick_path(tmp_path: Path) -> None:
    path = seed(tmp_path)
    data = str(tmp_path / "data")
    args = ["run", str(path), "-d", data, "--until-idle", "--metrics-port", "0"]
    result = probe(tmp_path, *args, "--log-format", "json", "--summary=json")
    assert result["code"] == 0, result["stderr"]
    assert result["imported"] == []
    lines = [json.loads(line) for line in str(result["stderr"]).splitlines()]
    assert any("web view on http://127.0.0.1:" in line["message"] for line in lines)
    # bad values go to Typer, which words them (as one JSON line under --log-format json)
    bad = probe(tmp_path, *args[:-1], "99999", "--log-format", "json")
    assert bad["code"] == 2 and "typer" in bad["imported"]
    (line,) = str(bad["stderr"]).splitlines()
    assert "must be a port number" in json.loads(line)["message"]
    for wrong in (["--log-format", "xml"], ["--summary", "yaml"], ["--metrics-port", "x"]):
        refused = probe(tmp_path, "run", str(path), "-d", data, *wrong)
        assert refused["code"] == 2 and "typer" in refused["imported"], wrong
