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


def test_env_references_work_inside_flow_mappings_with_positions_kept(
    tmp_path, monkeypatch
) -> None:
    """(#10) ``settings: {x: ${V:-y}}``, the README's style, was a YAML syntax error."""
    from support import cli

    from streamctl.pipeline import load_pipeline

    monkeypatch.delenv("STREAMCTL_T10_POLL", raising=False)
    monkeypatch.delenv("STREAMCTL_T10_UNSET", raising=False)
    monkeypatch.setenv("STREAMCTL_T10_PASS", "123")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "app: x\n"
        "broker: kafka://127.0.0.1:9  # broker_settings are Kafka's; nothing connects here\n"
        "settings: {max_poll_records: ${STREAMCTL_T10_POLL:-250}, commit_interval: 1}\n"
        "broker_settings: {sasl_plain_password: ${STREAMCTL_T10_PASS}, client_id: '${X:-a,b}'}\n"
        "topics: {a: {partitions: ${STREAMCTL_T10_PARTS:-3}}}\n"
    )
    app = load_pipeline(pipeline, datadir=tmp_path / "data").app
    assert app.conf.max_poll_records == 250  # an unquoted reference is typed as YAML would
    assert app.conf.broker_settings["sasl_plain_password"] == "123"  # a secret stays text
    assert app.conf.broker_settings["client_id"] == "a,b"
    assert app.topics["a"].partitions == 3
    app.close()
    monkeypatch.setenv("STREAMCTL_T10_POLL", "700")
    assert load_pipeline(pipeline, datadir=tmp_path / "data").app.conf.max_poll_records == 700

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "app: x\nsettings: {commit_interval: 1, max_poll_records: ${STREAMCTL_T10_UNSET}}\n"
    )
    result = cli("validate", bad)
    assert result.exit_code != 0
    assert f"{bad}:2:50: environment variable STREAMCTL_T10_UNSET is not set" in result.stderr
