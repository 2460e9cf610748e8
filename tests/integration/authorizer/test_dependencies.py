"""Dependency failures: fail closed with nothing cached, keep working with what is cached, and
never let one scheme's dependency break another scheme."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from authorizer.authorize import Authorizer
from authorizer.jwks import JwksCache
from authorizer.secret_store import SecretStore
from shared import ApiKeyRecord, AuthorizerSettings
from tests.integration.authorizer.conftest import JwksServer, Secrets
from tests.integration.authorizer.support import (
    api_key_event,
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)

Mint = Callable[..., str]


class UnreachableSecretsManager:
    """What boto3 raises when Secrets Manager cannot be reached (moto would intercept a real
    client's calls whatever its endpoint, so the failure is raised directly)."""

    def get_secret_value(self, **_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")


class ThrottledSecretsManager:
    def get_secret_value(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetSecretValue")


def unreachable_secrets_manager() -> Any:
    return UnreachableSecretsManager()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def down_authz(settings: AuthorizerSettings) -> Authorizer:
    store = SecretStore(5, client_factory=unreachable_secrets_manager)
    return Authorizer(settings, store=store)


def test_secrets_manager_down_nothing_cached_fails_closed(
    down_authz: Authorizer, service_token: Mint, aws: Secrets
) -> None:
    assert_dependency_error(down_authz, bearer("GET", "/api/automate", service_token()))
    record = ApiKeyRecord.issue("billing", [])
    assert_dependency_error(down_authz, api_key_event("GET", "/api/internal", record.api_key))


def test_secrets_manager_throttling_fails_closed(
    settings: AuthorizerSettings, service_token: Mint
) -> None:
    authz = Authorizer(settings, store=SecretStore(5, client_factory=ThrottledSecretsManager))
    assert_dependency_error(authz, bearer("GET", "/api/automate", service_token()))
    record = ApiKeyRecord.issue("billing", [])
    assert_dependency_error(authz, api_key_event("GET", "/api/internal", record.api_key))


def test_oauth_still_verified_while_secrets_manager_is_down(
    down_authz: Authorizer, oauth_token: Mint
) -> None:
    assert down_authz.handle(bearer("GET", "/api/secure-automate", oauth_token()))["principalId"]


def test_malformed_credentials_stay_401_while_secrets_manager_is_down(
    down_authz: Authorizer,
) -> None:
    assert_unauthorized(down_authz, api_key_event("GET", "/api/internal", "wfk_nope"))
    assert_unauthorized(down_authz, bearer("GET", "/api/automate", "not-a-jwt"))


def test_cached_signing_key_survives_secrets_manager_outage(
    authz: Authorizer, service_token: Mint
) -> None:
    assert authz.handle(bearer("GET", "/api/automate", service_token()))
    authz.store._client = unreachable_secrets_manager()
    assert authz.handle(bearer("GET", "/api/automate", service_token()))


@pytest.fixture
def clocked(settings: AuthorizerSettings, aws: Secrets) -> tuple[Authorizer, Clock]:
    clock = Clock()
    store = SecretStore(5, client_factory=lambda: aws.client)
    return Authorizer(settings, store=store, jwks=JwksCache(settings, clock=clock)), clock


def test_jwks_down_with_keys_cached_still_verifies(
    clocked: tuple[Authorizer, Clock], oauth_token: Mint, jwks_server: JwksServer,
    settings: AuthorizerSettings,
) -> None:  # fmt: skip
    authz, clock = clocked
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token()))
    jwks_server.down = True
    clock.now += settings.jwks_cache_seconds + 1  # stale: a refresh is attempted and fails
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token()))
    clock.now += settings.jwks_max_stale_seconds  # now beyond stale-if-error
    assert_dependency_error(authz, bearer("GET", "/api/secure-automate", oauth_token()))
    jwks_server.down = False
    clock.now += settings.jwks_min_refresh_seconds  # after the failure backoff it recovers
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token()))


def test_jwks_never_fetched_and_down_is_a_dependency_error(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.down = True
    assert_dependency_error(authz, bearer("GET", "/api/secure-automate", oauth_token()))


def test_unknown_kid_refetch_limit_counted_at_the_server(
    clocked: tuple[Authorizer, Clock], oauth_token: Mint, jwks_server: JwksServer,
    settings: AuthorizerSettings,
) -> None:  # fmt: skip
    authz, clock = clocked
    for i in range(20):
        assert_unauthorized(
            authz, bearer("GET", "/api/secure-automate", oauth_token(kid=f"nope-{i}"))
        )
    # The first fetch does not count toward the cooldown, so one unknown-kid refetch follows it.
    assert jwks_server.hits["/jwks"] == 2
    clock.now += settings.jwks_min_refresh_seconds
    for i in range(20):
        assert_unauthorized(
            authz, bearer("GET", "/api/secure-automate", oauth_token(kid=f"again-{i}"))
        )
    assert jwks_server.hits["/jwks"] == 3
    assert jwks_server.hits["/.well-known/openid-configuration"] == 1


def test_unknown_kid_refetch_finds_a_new_provider_key(
    clocked: tuple[Authorizer, Clock], oauth_token: Mint, jwks_server: JwksServer, oauth_keys: Any,
) -> None:  # fmt: skip
    authz, _ = clocked
    jwks_server.keys = [oauth_keys["RS256"].jwk]
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token("RS256")))
    jwks_server.keys = [oauth_keys["RS256"].jwk, oauth_keys["ES256"].jwk]  # provider adds a key
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token("ES256")))


def test_oversized_key_set_is_refused(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.body_override = b'{"keys": [], "pad": "' + b"x" * 200_000 + b'"}'
    assert_dependency_error(authz, bearer("GET", "/api/secure-automate", oauth_token()))


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"keys": "x"}'])
def test_garbage_key_set_is_a_dependency_error(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer, body: bytes
) -> None:
    jwks_server.body_override = body
    assert_dependency_error(authz, bearer("GET", "/api/secure-automate", oauth_token()))


def test_slow_provider_times_out(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.delay = 3.0  # longer than the 2 s fetch timeout
    assert_dependency_error(authz, bearer("GET", "/api/secure-automate", oauth_token()))


def test_rfc8414_discovery_fallback(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.rfc8414_only = True
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token()))
    assert jwks_server.hits["/.well-known/oauth-authorization-server"] == 1


def test_configured_jwks_uri_skips_discovery(
    make_authorizer: Callable[..., Authorizer], settings: AuthorizerSettings,
    oauth_token: Mint, jwks_server: JwksServer,
) -> None:  # fmt: skip
    authz = make_authorizer(settings, oauth_jwks_uri=jwks_server.base + "/jwks")
    assert authz.handle(bearer("GET", "/api/secure-automate", oauth_token()))
    assert set(jwks_server.hits) == {"/jwks"}


def test_discovery_naming_another_issuer_is_refused(
    make_authorizer: Callable[..., Authorizer], settings: AuthorizerSettings,
    oauth_token: Mint, jwks_server: JwksServer,
) -> None:  # fmt: skip
    other = replace(settings, oauth_issuer=jwks_server.base + "/tenant")
    authz = make_authorizer(other)
    token = oauth_token(iss=jwks_server.base + "/tenant")
    assert_dependency_error(authz, bearer("GET", "/api/secure-automate", token))


def test_concurrent_fetches_are_merged(
    settings: AuthorizerSettings, jwks_server: JwksServer, oauth_keys: Any
) -> None:
    jwks_server.delay = 0.2
    cache = JwksCache(settings)
    barrier = threading.Barrier(8)
    results: list[str] = []

    def fetch() -> None:
        barrier.wait()
        results.append(cache.get_key(oauth_keys["RS256"].kid).kid)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [oauth_keys["RS256"].kid] * 8
    assert jwks_server.hits["/jwks"] == 1
