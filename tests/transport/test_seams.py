"""The one registry helper every seam resolves names through (transports, stores, agents,
steps, codecs)."""

from __future__ import annotations

import importlib.metadata
import os.path
from types import SimpleNamespace

import pytest

from streamctl import seams

BUILTIN = {"here": "os.path:join"}


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def fake_entry_points(group: str) -> list[SimpleNamespace]:
        calls.append(group)
        return [
            SimpleNamespace(name="plugged", value="os.path:split"),
            SimpleNamespace(name="here", value="os.path:dirname"),
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    return calls


def test_builtins_win_and_entry_points_are_read_only_when_needed(plugins: list[str]) -> None:
    assert seams.target("streamctl.test", "here", BUILTIN) == "os.path:join"
    assert plugins == []
    assert seams.target("streamctl.test", "plugged", BUILTIN) == "os.path:split"
    assert seams.target("streamctl.test", "absent", BUILTIN) is None
    assert plugins == ["streamctl.test", "streamctl.test"]
    assert seams.names("streamctl.test", BUILTIN) == ["here", "plugged"]


def test_load_object_imports_module_and_dotted_attribute() -> None:
    assert seams.load_object("os.path:join") is os.path.join
    assert seams.load_object("os:path.join") is os.path.join
    assert seams.load_object("os.path") is os.path


def test_missing_attribute_and_failed_import_are_told_apart() -> None:
    with pytest.raises(seams.MissingAttribute) as info:
        seams.load_object("os.path:nope.deeper")
    assert isinstance(info.value, AttributeError)
    assert (info.value.module, info.value.attr) == ("os.path", "nope.deeper")
    assert "has no attribute 'nope'" in str(info.value)
    with pytest.raises(ImportError):
        seams.load_object("no_such_module_xyz:thing")
