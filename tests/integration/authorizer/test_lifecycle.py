"""Credential lifecycle under attack, in-process against moto: a rotation evicts a leaked
signing key, OAuth tokens have a maximum lifetime, scopes follow RFC 6749's grammar, a signing
secret that is not JSON is our fault, and policies stay small for any number of scopes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer.authorize import Authorizer
from authorizer.policy import MAX_POLICY_BYTES
from authorizer.service_tokens import ServiceTokenVerifier
from shared import AuthorizerSettings, Scheme
from shared.routes import ROUTES, AuthorizerName
from tests.helpers import method_arn
from tests.integration.authorizer.conftest import SIGNING_SECRET_ID, Secrets
from tests.integration.authorizer.support import (
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)

Mint = Callable[..., str]


def automate(token: str) -> dict[str, Any]:
    return bearer("GET", "/api/automate", token)


def with_wall_clock(authz: Authorizer, now: Callable[[], float]) -> Authorizer:
    verifier = ServiceTokenVerifier(authz.settings, authz.store, wall_clock=now)
    authz.verifiers.replace(Scheme.JWT, verifier)
    return authz


# --- 1. a rotation evicts a leaked signing key ---------------------------------------------


def test_a_rotation_evicts_the_previous_key_within_one_token_lifetime(
    authz: Authorizer, aws: Secrets, service_token: Mint
) -> None:
    """AWSPREVIOUS was honoured with no age limit: after the emergency rotation of a leaked key,
    an attacker's freshly minted tokens kept working until the next rotation (30 days)."""
    leaked = aws.signing_keys["k1"]
    aws.put_signing_key("k2")  # the emergency rotation: k1 is AWSPREVIOUS now
    rotated_at = time.time()
    limit = authz.settings.jwt_max_lifetime_seconds + authz.settings.clock_skew_seconds
    clock = [rotated_at + limit - 5]
    with_wall_clock(authz, lambda: clock[0])

    # Within one token lifetime, tokens signed before the rotation still pass...
    assert authz.handle(automate(service_token(kid="k1")))
    assert authz.handle(automate(service_token(kid=None, key=leaked)))
    # ...and after it, whatever the attacker mints with the leaked key is refused.
    clock[0] = rotated_at + limit + 5
    authz.store.clear()
    assert_unauthorized(authz, automate(service_token(kid="k1")))
    assert_unauthorized(authz, automate(service_token(kid=None, key=leaked)))
    assert authz.handle(automate(service_token(kid="k2")))


def test_a_creation_date_ahead_of_the_clock_never_holds_the_previous_key_open(
    authz: Authorizer, aws: Secrets, service_token: Mint
) -> None:
    """The window counted from a `CreatedDate` more than the skew in the future (a stepped
    clock, a misread answer) was open until that date: a negative age passed `<= limit`."""
    aws.put_signing_key("k2")  # k1 is AWSPREVIOUS
    created = time.time()
    skew = authz.settings.clock_skew_seconds
    clock = [created - skew + 5]  # within the skew: the date is believed
    with_wall_clock(authz, lambda: clock[0])
    assert authz.handle(automate(service_token(kid="k1")))
    clock[0] = created - skew - 600  # the date lies far ahead: unknown, so not honoured
    authz.store.clear()
    assert_unauthorized(authz, automate(service_token(kid="k1")))
    assert authz.handle(automate(service_token(kid="k2")))


@pytest.mark.parametrize(
    "value", ["not json", "[]", '{"kid": "k3"}', '{"key": "' + "x" * 40 + '"}']
)
def test_a_signing_secret_that_is_not_the_format_is_a_configuration_error(
    authz: Authorizer, aws: Secrets, service_token: Mint, value: str,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:  # fmt: skip
    """Once a 401 `unknown_kid` (a credential fault), which sent operators chasing callers."""
    aws.client.put_secret_value(SecretId=SIGNING_SECRET_ID, SecretString=value)
    assert_dependency_error(authz, automate(service_token(kid="k1")))
    misconfigured = [line for line in log_lines() if line["message"] == "authorizer misconfigured"]
    assert misconfigured
    assert SIGNING_SECRET_ID in misconfigured[-1]["detail"]
    assert "x" * 40 not in json.dumps(log_lines())


# --- 4. OAuth tokens have a maximum lifetime ----------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "iat_offset", "accepted"),
    [
        (86400, 0, True),  # exactly the maximum
        (86400 + 60, 0, True),  # within the skew
        (86400 + 61, 0, False),
        (30 * 86400, 0, False),  # the 30-day token a revocation could not outlive
        (30 * 86400, None, False),  # without iat, counted from now
    ],
)
def test_oauth_tokens_have_a_maximum_lifetime(
    authz: Authorizer, oauth_token: Mint, lifetime: int, iat_offset: int | None, accepted: bool
) -> None:
    now = int(time.time())
    claims: dict[str, Any] = {"exp": now + lifetime, "iat": None if iat_offset is None else now}
    event = bearer("GET", "/api/secure-automate", oauth_token(**claims))
    if accepted:
        assert authz.handle(event)["principalId"] == "user-42"
    else:
        assert_unauthorized(authz, event)


# --- 7. scopes follow RFC 6749 section 3.3 ------------------------------------------------------


@pytest.mark.parametrize("separator", ["\u3000", "\u00a0", "\t", "\n", "\u2028"])
@pytest.mark.parametrize("claim", ["scope", "scp"])
def test_a_scope_split_by_other_whitespace_never_grants_admin(
    authz: Authorizer, service_token: Mint, oauth_token: Mint, separator: str, claim: str
) -> None:
    """`workflow:read\\u3000workflow:admin` once granted admin: `str.split()` splits on any
    Unicode whitespace. It is a malformed token now, on both token paths."""
    value = f"workflow:read{separator}workflow:admin"
    claims: dict[str, Any] = {"scope": None, claim: value}
    event = bearer("POST", "/api/admin/api-keys", service_token(**claims))
    assert_unauthorized(authz, event)
    oauth = oauth_token(**claims)
    assert_unauthorized(authz, bearer("GET", "/api/secure-automate", oauth))


# --- 9. policies stay under 8 KB for any number of scopes -----------------------------------


def narrowed(count: int, width: int) -> str:
    """`count` narrowed scopes, each on its own workflow (ids of `width` characters)."""
    return " ".join(
        f"workflow:{'read' if i % 2 else 'trigger'}:{i:0{width}d}" for i in range(count)
    )


def policy_bytes(policy: dict[str, Any]) -> int:
    return len(json.dumps(policy["policyDocument"]))


@pytest.mark.parametrize("count", [10, 50, 150])
def test_many_narrowed_scopes_get_a_small_policy_and_no_refusal(
    make_authorizer: Callable[..., Authorizer],
    settings: AuthorizerSettings,
    service_token: Mint,
    count: int,
) -> None:
    """50 read+trigger pairs of 40-character workflow ids once made a 21 KB policy, and more
    than 64 scopes were refused outright. Every token under the 8 KiB cap is served."""
    authz = make_authorizer(settings, jwt_max_lifetime_seconds=3600)
    token = service_token(scope=narrowed(count, width=40 if count <= 100 else 20))
    assert len(token) <= 8192
    width = 40 if count <= 100 else 20
    policy = authz.handle(bearer("GET", f"/api/workflows/{1:0{width}d}/runs", token))
    assert policy_bytes(policy) < MAX_POLICY_BYTES
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ids=st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True), max_size=120),
    admin=st.booleans(),
)
def test_any_accepted_token_has_a_policy_under_8_kb(
    authz: Authorizer, service_token: Mint, ids: list[str], admin: bool
) -> None:
    scopes = [f"workflow:{a}:{wid}" for wid in ids for a in ("read", "trigger")]
    if admin:
        scopes.append("workflow:admin")
    token = service_token(scope=" ".join(scopes))
    if len(token) > 8192:
        return  # refused for its size, as every oversized token is
    for route in (r for r in ROUTES if r.authorizer is AuthorizerName.BEARER):
        path = (
            route.path.replace("{workflowId}", ids[0] if ids else "w")
            .replace("{", "")
            .replace("}", "")
        )
        event = bearer(route.method, path, token)
        event["methodArn"] = method_arn(route.method, path)
        policy = authz.handle(event)
        assert policy_bytes(policy) < MAX_POLICY_BYTES
