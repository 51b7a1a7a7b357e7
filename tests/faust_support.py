"""Faust-compat tests (#12): each runs in a fresh working directory (the default data dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streamctl import faustsettings


@pytest.fixture(autouse=True)
def fresh_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STREAMCTL_DATADIR", raising=False)
    # each test sees the once-per-process warnings afresh
    monkeypatch.setattr(faustsettings, "_warned", set())
    yield tmp_path
