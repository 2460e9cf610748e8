"""Brute-force lockout, token revocation and new-source alerts against DynamoDB in moto (the
table as template.yaml declares it). The snapshot's own rules (refresh, staleness, caps) are in
test_snapshot.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from authorizer.authorize import Authorizer
from authorizer.guard import Guard
from authorizer.secret_store import SecretStore
from shared import ApiKeyRecord, AuthorizerSettings
from shared.security_table import (
    REVOCATION_KIND,
    revoked_jti_key,
    revoked_subject_key,
)
from shared.settings import SecuritySettings
from tests.integration.authorizer.conftest import JWT_ISSUER, SECURITY_TABLE, Secrets
from tests.integration.authorizer.support import (
    Clock,
    CountingDynamo,
    api_key_event,
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)

TABLE = SECURITY_TABLE
THRESHOLD = 5
WINDOW = 300
REFRESH = 5
Mint = Callable[..., str]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guarded(
    settings: AuthorizerSettings, aws: Secrets, dynamo: CountingDynamo, clock: Clock
) -> Authorizer:
    security = SecuritySettings(
        table_name=TABLE, lockout_threshold=THRESHOLD, lockout_window_seconds=WINDOW
    )
    settings = replace(settings, security=security)
    store = SecretStore(5, client_factory=lambda: aws.client)
    return Authorizer(
        settings, store=store, guard=Guard(security, lambda: dynamo, wall_clock=clock)
    )


def automate(token: str, ip: str = "198.51.100.1") -> dict[str, Any]:
    return bearer("GET", "/api/automate", token, source_ip=ip)


def forge_failures(authz: Authorizer, aws: Secrets, service_token: Mint, net: str) -> ApiKeyRecord:
    """Twice the threshold of forged credentials naming one victim (an API key id and a
    service `sub`), each pair from another address of `net` (`a.b.c.`); the victim's key."""
    record = ApiKeyRecord.issue("victim", [])
    aws.put_api_key(record)
    wrong = ApiKeyRecord.issue("x", [], key_id=record.key_id).api_key
    forged = service_token(sub="svc-payments", key="a forged key, not the signing key, 32+ bytes")
    for i in range(THRESHOLD * 2):
        event = api_key_event("GET", "/api/internal", wrong)
        event["requestContext"]["identity"]["sourceIp"] = f"{net}{i}"
        assert_unauthorized(authz, event)
        assert_unauthorized(authz, automate(forged, ip=f"{net}{i}"))
    return record


# --- lockout --------------------------------------------------------------------------------------


def test_fewer_failures_than_the_threshold_then_a_valid_credential_is_allowed(
    guarded: Authorizer, service_token: Mint
) -> None:
    for _ in range(THRESHOLD - 1):
        assert_unauthorized(guarded, automate(service_token(key="x" * 40)))
    assert guarded.handle(automate(service_token()))["principalId"] == "svc-payments"


def test_threshold_failures_lock_even_the_valid_credential_until_the_window_passes(
    guarded: Authorizer, service_token: Mint, clock: Clock,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:  # fmt: skip
    clock.now = (int(clock.now) // WINDOW) * WINDOW + 1  # start of a window
    for _ in range(THRESHOLD):
        assert_unauthorized(guarded, automate(service_token(key="x" * 40)))
    assert_unauthorized(guarded, automate(service_token()))
    decisions = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    assert decisions[-1]["reason"] == "rate_limited"
    assert any(line.get("message") == "lockout" for line in log_lines())
    clock.now += WINDOW
    assert guarded.handle(automate(service_token()))["principalId"] == "svc-payments"


def test_locked_requests_do_no_verification_work(
    guarded: Authorizer, service_token: Mint, aws: Secrets, clock: Clock
) -> None:
    clock.now = (int(clock.now) // WINDOW) * WINDOW + 1
    for _ in range(THRESHOLD):
        assert_unauthorized(guarded, automate(service_token(key="x" * 40)))
    calls: list[Any] = []
    guarded.store._client = type(
        "Spy", (), {"get_secret_value": lambda _, **kw: calls.append(kw)}
    )()
    guarded.store.clear()
    assert_unauthorized(guarded, automate(service_token()))
    assert calls == []


def test_one_ip_does_not_lock_another(
    guarded: Authorizer, service_token: Mint, clock: Clock
) -> None:
    clock.now = (int(clock.now) // WINDOW) * WINDOW + 1
    for _ in range(THRESHOLD):
        assert_unauthorized(
            guarded, automate(service_token(key="x" * 40, sub="attacker"), ip="192.0.2.66")
        )
    assert_unauthorized(guarded, automate(service_token(sub="attacker"), ip="192.0.2.66"))
    assert guarded.handle(automate(service_token(), ip="192.0.2.67"))


def test_forged_failures_naming_a_victim_never_lock_the_victim_out(
    guarded: Authorizer, aws: Secrets, service_token: Mint, clock: Clock
) -> None:
    """Failures are counted per source IP only. Anyone can write a victim's API key id or `sub`
    into forged credentials: counting claimed identities once let ten forged requests from ten
    addresses lock a valid key and a valid service out, window after window."""
    clock.now = (int(clock.now) // WINDOW) * WINDOW + 1
    record = forge_failures(guarded, aws, service_token, "203.0.113.")
    allowed = guarded.handle(api_key_event("GET", "/api/internal", record.api_key))
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert guarded.handle(automate(service_token(sub="svc-payments")))["principalId"] == (
        "svc-payments"
    )


def test_a_failure_costs_one_write(
    guarded: Authorizer, service_token: Mint, dynamo: CountingDynamo
) -> None:
    assert guarded.handle(automate(service_token()))  # the first call loads the snapshot
    dynamo.calls.clear()
    for _ in range(3):
        assert_unauthorized(guarded, automate(service_token(key="x" * 40)))
    assert dynamo.calls == ["update_item"] * 3


# --- revocation -----------------------------------------------------------------------------------


def revoke(client: Any, key: str, **attributes: Any) -> None:
    item = {"pk": {"S": key}, "kind": {"S": REVOCATION_KIND}}
    item.update({name: {"N": str(value)} for name, value in attributes.items()})
    client.put_item(TableName=TABLE, Item=item)


def test_revoked_jti_is_refused_until_its_expiry(
    guarded: Authorizer, service_token: Mint, dynamo: CountingDynamo, clock: Clock
) -> None:
    token = service_token(jti="stolen-1")
    assert guarded.handle(automate(token))
    revoke(dynamo.client, revoked_jti_key("stolen-1"), expires_at=int(clock.now) + 300)
    clock.now += REFRESH  # the next snapshot has it
    assert_unauthorized(guarded, automate(token))
    assert guarded.handle(automate(service_token(jti="other")))
    clock.now += 301  # DynamoDB TTL is lazy: the authorizer checks expires_at itself
    revoke(dynamo.client, revoked_jti_key("stolen-2"), expires_at=int(clock.now) - 1)
    assert guarded.handle(automate(service_token(jti="stolen-2")))
    assert guarded.handle(automate(token))  # stolen-1's item is past its expiry too


def test_subject_revocation_refuses_tokens_issued_before_it(
    guarded: Authorizer, service_token: Mint, oauth_token: Mint, dynamo: CountingDynamo,
    clock: Clock,
) -> None:  # fmt: skip
    now = int(time.time())
    skew = guarded.settings.clock_skew_seconds
    old = service_token(iat=now - 300)
    key = revoked_subject_key("jwt", JWT_ISSUER, "svc-payments")
    revoke(dynamo.client, key, before=now - 250, expires_at=now + 3600)
    assert_unauthorized(guarded, automate(old))
    # A token stamped within the skew after the revocation may come from a fast clock that
    # minted it before: refused too. One issued later passes.
    assert_unauthorized(guarded, automate(service_token(iat=now - 250 + skew)))
    assert guarded.handle(automate(service_token(iat=now - 250 + skew + 1)))
    oauth_issuer = guarded.settings.oauth_issuer or ""
    oauth_key = revoked_subject_key("oauth", oauth_issuer, "user-42")
    revoke(dynamo.client, oauth_key, before=now + 1, expires_at=now + 3600)
    clock.now += REFRESH
    assert_unauthorized(guarded, bearer("GET", "/api/secure-automate", oauth_token()))
    assert_unauthorized(guarded, bearer("GET", "/api/secure-automate", oauth_token(iat=None)))


def test_a_subject_revocation_is_one_schemes_subject_only(
    guarded: Authorizer, service_token: Mint, oauth_token: Mint, dynamo: CountingDynamo
) -> None:
    """Revoking OAuth subject `x` once revoked internal service `x` too (and the other way).
    Both revocations are in the container's first snapshot."""
    now = int(time.time())
    oauth_issuer = guarded.settings.oauth_issuer or ""
    revoke(
        dynamo.client,
        revoked_subject_key("oauth", oauth_issuer, "svc-payments"),
        before=now + 100,
        expires_at=now + 3600,
    )
    revoke(
        dynamo.client,
        revoked_subject_key("jwt", JWT_ISSUER, "user-42"),
        before=now + 100,
        expires_at=now + 3600,
    )
    assert guarded.handle(automate(service_token(sub="svc-payments")))
    assert guarded.handle(bearer("GET", "/api/secure-automate", oauth_token()))
    # The revocations are in the snapshot: the same subjects of the other scheme are refused.
    assert_unauthorized(guarded, automate(service_token(sub="user-42")))
    oauth_svc = oauth_token(sub="svc-payments")
    assert_unauthorized(guarded, bearer("GET", "/api/secure-automate", oauth_svc))


def test_revocation_fails_closed_and_lockout_fails_open_when_the_table_is_down(
    settings: AuthorizerSettings, aws: Secrets, service_token: Mint,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:  # fmt: skip
    class Down:
        def __getattr__(self, name: str) -> Any:
            def fail(**_: Any) -> Any:
                raise EndpointConnectionError(
                    endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
                )

            return fail

    security = SecuritySettings(table_name=TABLE, lockout_threshold=THRESHOLD)
    authz = Authorizer(
        replace(settings, security=security),
        store=SecretStore(5, client_factory=lambda: aws.client),
        guard=Guard(security, Down),
    )
    assert_dependency_error(authz, automate(service_token()))  # cannot check revocation
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    assert authz.handle(api_key_event("GET", "/api/internal", record.api_key))  # lockout: open
    assert any(line.get("message") == "security table unavailable" for line in log_lines())


def test_new_source_for_an_api_key_is_reported_once(
    guarded: Authorizer, aws: Secrets, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    for _ in range(3):
        guarded.handle(api_key_event("GET", "/api/internal", record.api_key))
    alerts = [
        line for line in log_lines() if line.get("message") == "api key used from a new source"
    ]
    assert len(alerts) == 1
    assert alerts[0]["key_id"] == record.key_id
    assert alerts[0]["source_ip"] == "203.0.113.7"
    other = api_key_event("GET", "/api/internal", record.api_key)
    other["requestContext"]["identity"]["sourceIp"] = "192.0.2.10"
    guarded.handle(other)
    alerts = [
        line for line in log_lines() if line.get("message") == "api key used from a new source"
    ]
    assert len(alerts) == 2
