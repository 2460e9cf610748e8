"""`DPOP_MODE`, `DPOP_PROOF_MAX_AGE_SECONDS` and `PUBLIC_BASE_URL`, for the authorizer and the
token service alike (docs/configuration.md)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.clients.settings import TokenServiceSettings
from shared.settings import AuthorizerSettings, ConfigurationError, DpopMode, DpopSettings

TABLE = {"SECURITY_TABLE_NAME": "security"}
TOKEN_SERVICE = {"JWT_SECRET_ID": "s", "JWT_ISSUER": "i", "JWT_AUDIENCE": "a"}


def test_dpop_is_off_by_default() -> None:
    settings = AuthorizerSettings.from_env({})
    assert settings.dpop == DpopSettings(DpopMode.OFF, 300)
    assert not settings.dpop.enabled
    assert settings.public_base_url is None


@pytest.mark.parametrize("raw", ["optional", "Optional", " REQUIRED "])
def test_the_mode_is_read_case_insensitively(raw: str) -> None:
    settings = AuthorizerSettings.from_env({"DPOP_MODE": raw, **TABLE})
    assert settings.dpop.mode is DpopMode(raw.strip().lower())


def token_service(env: dict[str, str]) -> TokenServiceSettings:
    return TokenServiceSettings.from_env({**TOKEN_SERVICE, **env})


@pytest.mark.parametrize("build", [AuthorizerSettings.from_env, token_service])
@pytest.mark.parametrize("mode", ["optional", "required"])
def test_dpop_without_the_security_table_is_a_configuration_error(build: Any, mode: str) -> None:
    with pytest.raises(ConfigurationError, match="SECURITY_TABLE_NAME"):
        build({"DPOP_MODE": mode})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DPOP_MODE": "on"}, "DPOP_MODE must be off, optional or required"),
        ({"DPOP_PROOF_MAX_AGE_SECONDS": "0"}, "DPOP_PROOF_MAX_AGE_SECONDS must be at least 1"),
        ({"DPOP_PROOF_MAX_AGE_SECONDS": "soon"}, "DPOP_PROOF_MAX_AGE_SECONDS must be an integer"),
        ({"PUBLIC_BASE_URL": "http://api.example.com/v1"}, "PUBLIC_BASE_URL must be an https"),
        ({"PUBLIC_BASE_URL": "api.example.com"}, "PUBLIC_BASE_URL must be an https"),
    ],
)
def test_bad_values_fail_fast(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthorizerSettings.from_env({**env, **TABLE})
    with pytest.raises(ConfigurationError, match=message):
        TokenServiceSettings.from_env({**TOKEN_SERVICE, **env, **TABLE})


def test_both_functions_read_the_same_values() -> None:
    env = {
        "DPOP_MODE": "required",
        "DPOP_PROOF_MAX_AGE_SECONDS": "120",
        "PUBLIC_BASE_URL": "https://api.example.com/v1/",
        **TABLE,
    }
    authorizer = AuthorizerSettings.from_env(env)
    service = TokenServiceSettings.from_env({**TOKEN_SERVICE, **env})
    assert authorizer.dpop == service.dpop == DpopSettings(DpopMode.REQUIRED, 120)
    assert authorizer.public_base_url == service.public_base_url == "https://api.example.com/v1"


def test_plain_http_is_allowed_on_loopback() -> None:
    settings = AuthorizerSettings.from_env({"PUBLIC_BASE_URL": "http://127.0.0.1:3000"})
    assert settings.public_base_url == "http://127.0.0.1:3000"
