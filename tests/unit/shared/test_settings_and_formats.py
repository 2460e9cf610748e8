from __future__ import annotations

import json

import pytest

from shared import (
    ApiKeyRecord,
    AuthorizerSettings,
    ConfigurationError,
    SecretFormatError,
    new_api_key,
    new_key_id,
    new_signing_secret,
    parse_api_key,
    parse_signing_secret,
)
from shared.secret_formats import is_signing_secret


def test_defaults_match_the_spec() -> None:
    settings = AuthorizerSettings.from_env({})
    assert settings.jwt_max_lifetime_seconds == 3600
    assert settings.jwks_cache_seconds == 600
    assert settings.jwks_min_refresh_seconds == 30
    assert settings.jwks_max_stale_seconds == 86400
    assert settings.api_key_secret_prefix == "workflow-api/api-keys/"
    assert settings.api_key_grace_seconds == 86400
    assert settings.clock_skew_seconds == 60
    assert settings.jwt_issuer is None
    assert settings.security.refresh_seconds == 5
    assert settings.security.max_stale_seconds == 60


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CLOCK_SKEW_SECONDS": "abc"}, "CLOCK_SKEW_SECONDS must be an integer"),
        ({"JWKS_CACHE_SECONDS": "-1"}, "JWKS_CACHE_SECONDS must be at least 0"),
        ({"JWT_MAX_LIFETIME_SECONDS": "0"}, "JWT_MAX_LIFETIME_SECONDS must be at least 1"),
        ({"OAUTH_ISSUER": "https://idp.example.com"}, "OAUTH_AUDIENCE must be set"),
        (
            {"OAUTH_ISSUER": "http://idp.example.com", "OAUTH_AUDIENCE": "a"},
            "OAUTH_ISSUER must be an https URL",
        ),
        ({"OAUTH_JWKS_URI": "file:///etc/passwd"}, "OAUTH_JWKS_URI must be an https URL"),
        ({"SECURITY_REFRESH_SECONDS": "5s"}, "SECURITY_REFRESH_SECONDS must be an integer"),
        ({"SECURITY_MAX_STALE_SECONDS": "-1"}, "SECURITY_MAX_STALE_SECONDS must be at least 0"),
        (
            {"SECURITY_REFRESH_SECONDS": "30", "SECURITY_MAX_STALE_SECONDS": "10"},
            "SECURITY_MAX_STALE_SECONDS must be at least SECURITY_REFRESH_SECONDS",
        ),
    ],
)
def test_bad_configuration_fails_fast_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthorizerSettings.from_env(env)


def test_plain_http_issuer_only_on_loopback() -> None:
    settings = AuthorizerSettings.from_env(
        {"OAUTH_ISSUER": "http://127.0.0.1:3001", "OAUTH_AUDIENCE": "a"}
    )
    assert settings.oauth_issuer == "http://127.0.0.1:3001"


def test_signing_secret_format() -> None:
    value = new_signing_secret()
    key = parse_signing_secret(value)
    assert len(key.key) >= 32
    assert is_signing_secret(value)
    assert parse_signing_secret(new_signing_secret()).kid != key.kid


@pytest.mark.parametrize(
    "value",
    ["", "[]", '{"kid": "a"}', '{"kid": "a", "key": 5}', '{"kid": "", "key": "' + "x" * 40 + '"}',
     '{"kid": "a", "key": "' + "x" * 31 + '"}', '{"kid": "a", "key": "' + "é" * 15 + '"}'],
)  # fmt: skip
def test_bad_signing_secrets_are_configuration_errors(value: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_signing_secret(value)


def test_multibyte_key_counts_bytes() -> None:
    assert (
        parse_signing_secret(json.dumps({"kid": "a", "key": "é" * 16})).key == ("é" * 16).encode()
    )


def test_api_key_format_round_trip() -> None:
    key_id = new_key_id()
    key = new_api_key(key_id)
    assert parse_api_key(key) == key_id
    assert len(key) == 4 + 16 + 1 + 43
    record = ApiKeyRecord.issue("billing", ["workflow:read"], key_id=key_id)
    parsed = ApiKeyRecord.parse(record.to_secret_string())
    assert parsed == record
    assert parsed.key_id == key_id
    assert not is_signing_secret(record.to_secret_string())


@pytest.mark.parametrize(
    "value",
    ["{", "[]", '{"api_key": "x", "principal": "p"}',
     '{"api_key": "' + new_api_key("a" * 16) + '"}',
     '{"api_key": "' + new_api_key("a" * 16) + '", "principal": "p", "scopes": "workflow:read"}',
     '{"api_key": "' + new_api_key("a" * 16) + '", "principal": "p", "revoked": "no"}'],
)  # fmt: skip
def test_bad_api_key_secrets(value: str) -> None:
    with pytest.raises(SecretFormatError):
        ApiKeyRecord.parse(value)


def test_revoked_missing_means_false() -> None:
    key = new_api_key("b" * 16)
    assert ApiKeyRecord.parse(json.dumps({"api_key": key, "principal": "p"})).revoked is False
