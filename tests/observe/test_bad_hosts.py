"""Addresses the worker cannot serve on (#15 review): one line, exit 2, never a
traceback; the hint names the setting to change (a busy port: another port)."""

from __future__ import annotations

from pathlib import Path

import pytest
from observe_support import pipeline
from support import streamctl_process


@pytest.mark.parametrize(
    ("setting", "hint"),
    [
        ("web_host: nosuch.invalid", "cannot serve metrics on nosuch.invalid:0"),
        ("control_host: nosuch.invalid", "cannot serve the control channel on nosuch.invalid"),
        ("control_host: 192.0.2.1", "set control_host to an address of this machine"),
    ],
)
def test_an_address_that_cannot_be_bound_is_one_line(
    tmp_path: Path, setting: str, hint: str
) -> None:
    pipe = pipeline(tmp_path, "hosts", f"  {setting}\n")
    proc = streamctl_process(
        "run", pipe, "-d", tmp_path / "d", "--until-idle", "--metrics-port", "0",
        "--log-level", "error",
    )  # fmt: skip
    _out, errs = proc.communicate(timeout=60)
    assert proc.returncode == 2, errs
    assert "Traceback" not in errs
    (line,) = errs.strip().splitlines()
    assert line.startswith("error: ") and hint in line, line
