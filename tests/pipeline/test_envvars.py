"""The one ``${VAR}`` expander, shared by pipeline files and ``--broker-setting``."""

from __future__ import annotations

from streamctl.envvars import expand

ENV = {"USER_NAME": "ada", "EMPTY": ""}


def test_set_unset_and_default() -> None:
    missing: list[str] = []
    text = "${USER_NAME}:${EMPTY:-x}:${NOPE:-fallback}:${ALSO_NOPE}:$PLAIN:${bad-name}"
    assert expand(text, missing.append, environ=ENV) == ":".join(
        ["ada", "", "fallback", "", "$PLAIN", "${bad-name}"]
    )
    assert missing == ["ALSO_NOPE"]


def test_without_a_callback_unset_becomes_empty(monkeypatch) -> None:
    monkeypatch.setenv("STREAMCTL_TEST_VAR", "v")
    monkeypatch.delenv("STREAMCTL_TEST_UNSET", raising=False)
    assert expand("a${STREAMCTL_TEST_VAR}b${STREAMCTL_TEST_UNSET}c") == "avbc"
