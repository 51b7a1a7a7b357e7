"""The one list of secret setting names, used by the Kafka transport and the CLI."""

from __future__ import annotations

from streamctl.redact import is_secret, secret_values


def test_named_and_hinted_secrets() -> None:
    for name in ("sasl_plain_password", "ssl_password", "sasl_oauth_token_provider"):
        assert is_secret(name)
    assert is_secret("ssl_context")  # no hint in the name, listed by name
    assert is_secret("MY_API_TOKEN") and is_secret("client_secret")
    for name in ("sasl_plain_username", "ssl_cafile", "acks", "bootstrap_servers"):
        assert not is_secret(name)


def test_secret_values_skip_empty_ones_and_keep_order() -> None:
    settings = {"acks": "all", "ssl_password": "b", "sasl_plain_password": "", "api_token": 7}
    assert secret_values(settings) == ["b", "7"]
