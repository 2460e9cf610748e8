"""API keys and rotated signing keys: AWSCURRENT, AWSPREVIOUS, grace windows, revocation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from authorizer.api_keys import ApiKeyVerifier
from authorizer.authorize import Authorizer
from shared import ApiKeyRecord, AuthorizerSettings, new_api_key
from tests.integration.authorizer.conftest import KEY_PREFIX, SIGNING_SECRET_ID, Secrets
from tests.integration.authorizer.support import (
    api_key_event,
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)

Mint = Callable[..., str]


def internal(key: str) -> dict[str, Any]:
    return api_key_event("GET", "/api/internal", key)


class CountingClient:
    """Wraps the Secrets Manager client to count calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, str]] = []

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.calls.append((kwargs["SecretId"], kwargs.get("VersionStage", "")))
        return self.client.get_secret_value(**kwargs)


@pytest.fixture
def counting(authz: Authorizer, aws: Secrets) -> CountingClient:
    counter = CountingClient(aws.client)
    authz.store._client = counter
    return counter


# --- API keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "", "wfk_", "wfk_abc_def", "wfk_" + "A" * 16 + "_" + "b" * 43,
        "wfk_" + "a" * 16 + "_" + "b" * 42,
        "wfk_" + "a" * 16 + "_" + "b" * 87, "wfk_" + "a" * 15 + "_" + "b" * 43,
        "wfk_" + "a" * 16 + "_" + "b" * 42 + "=", "WFK_" + "a" * 16 + "_" + "b" * 43,
        "wfk_" + "a" * 16 + "_" + "b" * 42 + "+", " wfk_" + "a" * 16 + "_" + "b" * 43,
        "wfk_" + "a" * 16 + "_" + "b" * 43 + "\n", "x" * 100_000,
        "wfk_" + "a" * 16 + "_" + "b" * 42 + "é",
    ],
)  # fmt: skip
def test_malformed_api_key_never_reaches_secrets_manager(
    authz: Authorizer, counting: CountingClient, key: str
) -> None:
    assert_unauthorized(authz, internal(key))
    assert counting.calls == []


def test_unknown_key_id_is_cached_negatively(authz: Authorizer, counting: CountingClient) -> None:
    key = new_api_key("zzzzzzzzzzzzzzzz")
    for _ in range(5):
        assert_unauthorized(authz, internal(key))
    assert counting.calls == [(KEY_PREFIX + "zzzzzzzzzzzzzzzz", "AWSCURRENT")]


def test_wrong_secret_for_a_known_key_id(authz: Authorizer, aws: Secrets) -> None:
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    assert_unauthorized(authz, internal(new_api_key(record.key_id)))


def test_wrong_values_for_a_known_key_force_at_most_one_reread_per_second(
    authz: Authorizer, aws: Secrets, counting: CountingClient
) -> None:
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    for _ in range(20):
        assert_unauthorized(authz, internal(new_api_key(record.key_id)))
    # One read of each label, then one forced re-read of each: the rest come from the cache.
    assert len(counting.calls) == 4


def test_revoked_key_refused_and_revokes_its_previous_value(
    authz: Authorizer, aws: Secrets
) -> None:
    old = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(old)
    revoked = ApiKeyRecord(old.api_key, old.principal, old.scopes, revoked=True)
    aws.put_api_key(revoked)
    assert_unauthorized(authz, internal(old.api_key))
    # Rotated then revoked: the value in AWSPREVIOUS is refused as well.
    other = ApiKeyRecord.issue("ops", [])
    aws.put_api_key(other)
    rotated = ApiKeyRecord(new_api_key(other.key_id), "ops", (), revoked=True)
    aws.put_api_key(rotated)
    assert_unauthorized(authz, internal(other.api_key))
    assert_unauthorized(authz, internal(rotated.api_key))


def test_deleted_key_is_unknown(authz: Authorizer, aws: Secrets) -> None:
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    aws.client.delete_secret(SecretId=KEY_PREFIX + record.key_id, RecoveryWindowInDays=7)
    assert_unauthorized(authz, internal(record.api_key))


def test_rotated_api_key_previous_value_only_within_grace(
    authz: Authorizer, aws: Secrets, settings: AuthorizerSettings
) -> None:
    old = ApiKeyRecord.issue("billing", ["workflow:read"])
    aws.put_api_key(old)
    new = ApiKeyRecord(new_api_key(old.key_id), old.principal, old.scopes)
    aws.put_api_key(new)
    assert authz.handle(internal(new.api_key))["principalId"] == "billing"
    assert authz.handle(internal(old.api_key))["principalId"] == "billing"
    # After the grace window (counted from AWSCURRENT's CreatedDate) the old value is refused.
    later = ApiKeyVerifier(
        settings, authz.store, wall_clock=lambda: time.time() + settings.api_key_grace_seconds + 5
    )
    authz.api_keys = later
    assert_unauthorized(authz, internal(old.api_key))
    assert authz.handle(internal(new.api_key))["principalId"] == "billing"


def test_a_creation_date_ahead_of_the_clock_never_holds_the_grace_window_open(
    authz: Authorizer, aws: Secrets, settings: AuthorizerSettings
) -> None:
    """A negative age (the current version's `CreatedDate` beyond the skew in the future)
    passed `<= grace`, so the old value stayed valid until that date came."""
    old = ApiKeyRecord.issue("billing", ["workflow:read"])
    aws.put_api_key(old)
    new = ApiKeyRecord(new_api_key(old.key_id), old.principal, old.scopes)
    aws.put_api_key(new)
    behind = settings.clock_skew_seconds + 600
    authz.api_keys = ApiKeyVerifier(settings, authz.store, wall_clock=lambda: time.time() - behind)
    assert_unauthorized(authz, internal(old.api_key))
    assert authz.handle(internal(new.api_key))["principalId"] == "billing"


def test_stale_key_use_is_audited_and_counted(
    authz: Authorizer, aws: Secrets, settings: AuthorizerSettings,
    log_lines: Callable[[], list[dict[str, Any]]], capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    old = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(old)
    aws.put_api_key(ApiKeyRecord(new_api_key(old.key_id), old.principal, old.scopes))
    authz.api_keys = ApiKeyVerifier(
        settings, authz.store, wall_clock=lambda: time.time() + settings.api_key_grace_seconds + 5
    )
    assert_unauthorized(authz, internal(old.api_key))
    (audit,) = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    assert audit["reason"] == "stale_key"
    assert audit["key_id"] == old.key_id
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert any("StaleKeyUse" in blob for blob in blobs)
    assert old.api_key not in json.dumps(audit)


def test_corrupt_api_key_secret_fails_closed(authz: Authorizer, aws: Secrets) -> None:
    key = new_api_key("corruptcorrupt00")
    aws.client.create_secret(Name=KEY_PREFIX + "corruptcorrupt00", SecretString="{not json")
    assert_dependency_error(authz, internal(key))


# --- the signing secret across a rotation -------------------------------------------------------


def test_previous_signing_key_accepted_with_and_without_kid(
    authz: Authorizer, aws: Secrets, service_token: Mint
) -> None:
    old_with_kid = service_token(kid="k1")
    old_without_kid = service_token(kid=None)
    aws.put_signing_key("k2")
    authz.store.clear()
    assert authz.handle(bearer("GET", "/api/automate", old_with_kid))
    assert authz.handle(bearer("GET", "/api/automate", old_without_kid))
    assert authz.handle(bearer("GET", "/api/automate", service_token(kid="k2")))
    assert authz.handle(
        bearer("GET", "/api/automate", service_token(kid=None, key=aws.signing_keys["k2"]))
    )
    # Two rotations later k1 is neither AWSCURRENT nor AWSPREVIOUS any more.
    aws.put_signing_key("k3")
    authz.store.clear()
    assert_unauthorized(authz, bearer("GET", "/api/automate", old_with_kid))
    assert_unauthorized(authz, bearer("GET", "/api/automate", old_without_kid))


def test_kid_of_one_version_with_the_key_of_another(
    authz: Authorizer, aws: Secrets, service_token: Mint
) -> None:
    aws.put_signing_key("k2")
    authz.store.clear()
    assert_unauthorized(
        authz, bearer("GET", "/api/automate", service_token(kid="k2", key=aws.signing_keys["k1"]))
    )


def test_weak_signing_key_is_a_configuration_error(
    authz: Authorizer, aws: Secrets, service_token: Mint,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:  # fmt: skip
    aws.client.put_secret_value(
        SecretId=SIGNING_SECRET_ID, SecretString=json.dumps({"kid": "weak", "key": "short-key"})
    )
    authz.store.clear()
    token = service_token(kid="weak", key="short-key" * 4)  # PyJWT would warn on the short key
    assert_dependency_error(authz, bearer("GET", "/api/automate", token))
    assert_dependency_error(
        authz, bearer("GET", "/api/automate", service_token(kid=None, key="x" * 40))
    )
    errors = [line for line in log_lines() if line.get("message") == "authorizer misconfigured"]
    assert errors
    assert "shorter than 32 bytes" in errors[0]["detail"]
    assert "short-key" not in json.dumps(log_lines())
    # A weak AWSPREVIOUS does not break tokens signed with a good AWSCURRENT.
    aws.put_signing_key("k9")
    authz.store.clear()
    assert authz.handle(bearer("GET", "/api/automate", service_token(kid="k9")))


def test_secret_values_are_cached_per_version(
    authz: Authorizer, aws: Secrets, counting: CountingClient, service_token: Mint
) -> None:
    aws.put_signing_key("k2")
    old, new = service_token(kid="k1"), service_token(kid="k2")
    for _ in range(3):
        assert authz.handle(bearer("GET", "/api/automate", old))
        assert authz.handle(bearer("GET", "/api/automate", new))
    assert sorted(counting.calls) == [
        (SIGNING_SECRET_ID, "AWSCURRENT"),
        (SIGNING_SECRET_ID, "AWSPREVIOUS"),
    ]


def test_random_kids_force_at_most_one_refresh_per_window(
    authz: Authorizer, counting: CountingClient, service_token: Mint, aws: Secrets
) -> None:
    for i in range(50):
        assert_unauthorized(
            authz, bearer("GET", "/api/automate", service_token(kid=f"rnd{i}", key="x" * 40))
        )
    assert len(counting.calls) == 4  # one cached read of each label, one forced refresh of each
