"""Each scheme and each OAuth algorithm accepted, with the exact policy and context."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

import authorizer.app
from authorizer.authorize import Authorizer
from shared import ApiKeyRecord
from tests.helpers import route_arn
from tests.integration.authorizer.conftest import Secrets
from tests.integration.authorizer.support import allowed, api_key_event, bearer

OAUTH_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


def test_service_token_allowed_with_exact_policy_and_context(
    authz: Authorizer, service_token: Callable[..., str]
) -> None:
    token = service_token(scope="workflow:trigger workflow:read:wf-7", jti="j-1")
    policy = authz.handle(bearer("POST", "/api/trigger", token))
    assert policy["principalId"] == "svc-payments"
    assert allowed(policy) == sorted(
        [
            route_arn("GET", "api/automate"),
            route_arn("POST", "api/trigger"),
            route_arn("POST", "api/workflows/*/runs"),
            route_arn("GET", "api/workflows/wf-7/runs"),
            route_arn("GET", "api/workflows/wf-7/runs/*"),
        ]
    )
    context = policy["context"]
    assert context == {
        "principal": "svc-payments",
        "scheme": "jwt",
        "scopes": "workflow:trigger workflow:read:wf-7",
        "token_id": "j-1",
        "expires_at": context["expires_at"],
    }
    assert abs(context["expires_at"] - (time.time() + 300)) < 5
    assert all(isinstance(v, str | int | bool) for v in context.values())


@pytest.mark.parametrize("alg", OAUTH_ALGS)
def test_oauth_token_each_algorithm(
    authz: Authorizer, oauth_token: Callable[..., str], alg: str
) -> None:
    policy = authz.handle(bearer("GET", "/api/secure-automate", oauth_token(alg)))
    assert policy["principalId"] == "user-42"
    assert allowed(policy) == sorted(
        [
            route_arn("GET", "api/secure-automate"),
            route_arn("GET", "api/workflows/*/runs"),
            route_arn("GET", "api/workflows/*/runs/*"),
        ]
    )
    assert policy["context"]["scheme"] == "oauth"
    assert policy["context"]["client_id"] == "demo-client"
    assert policy["context"]["token_id"] == "tok-1"


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", "application/AT+JWT"])
def test_oauth_typ_values(
    authz: Authorizer, oauth_token: Callable[..., str], typ: str | None
) -> None:
    token = oauth_token(headers={"typ": typ})
    assert authz.handle(bearer("GET", "/api/secure-automate", token))["principalId"] == "user-42"


def test_oauth_scp_array_and_client_principal(
    authz: Authorizer, oauth_token: Callable[..., str]
) -> None:
    token = oauth_token(sub=None, scope=None, scp=["workflow:admin"], client_id=None, azp="m2m")
    policy = authz.handle(bearer("GET", "/api/secure-automate", token))
    assert policy["principalId"] == "m2m"
    assert policy["context"]["client_id"] == "m2m"
    assert policy["context"]["scopes"] == "workflow:admin"
    assert route_arn("DELETE", "api/admin/api-keys/*") in allowed(policy)


def test_api_key_allowed(authz: Authorizer, aws: Secrets) -> None:
    record = ApiKeyRecord.issue("legacy-billing", ["workflow:read"])
    aws.put_api_key(record)
    policy = authz.handle(api_key_event("GET", "/api/internal", record.api_key))
    assert policy == {
        "principalId": "legacy-billing",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": [route_arn("GET", "api/internal")],
                }
            ],
        },
        "context": {
            "principal": "legacy-billing",
            "scheme": "api_key",
            "scopes": "workflow:read",
            "key_id": record.key_id,
        },
    }


def test_valid_credential_that_may_call_nothing_gets_explicit_deny(
    authz: Authorizer, oauth_token: Callable[..., str], service_token: Callable[..., str]
) -> None:
    # An OAuth token may not call /api/automate, but may call /api/secure-automate: the policy
    # is cache-correct (Allow on what it may call), and that route is not in it (403).
    policy = authz.handle(bearer("GET", "/api/automate", oauth_token(scope="")))
    assert allowed(policy) == [route_arn("GET", "api/secure-automate")]


def test_lambda_handler_contract(
    monkeypatch: pytest.MonkeyPatch,
    authz: Authorizer,
    service_token: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    monkeypatch.setattr(authorizer.app, "AUTHORIZER", authz)
    token = service_token()
    policy = authorizer.app.lambda_handler(bearer("GET", "/api/automate", token), None)
    assert policy["principalId"] == "svc-payments"
    (audit,) = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (emf,) = [line for line in emitted if "_aws" in line]
    assert audit["decision"] == "allow"
    assert audit["scheme"] == "jwt"
    assert audit["reason"] == "ok"
    assert audit["principal"] == "svc-payments"
    assert audit["source_ip"] == "203.0.113.7"
    assert audit["kid"] == "k1"
    assert len(audit["credential_fingerprint"]) == 12
    assert emf["AuthorizerAllow"] in ([1.0], 1.0)
    assert emf["scheme"] == "jwt"
    assert emf["reason"] == "ok"
    assert token not in json.dumps([audit, emf])


def test_unknown_kid_refresh_picks_up_a_rotated_signing_key(
    authz: Authorizer, aws: Secrets, service_token: Callable[..., str]
) -> None:
    assert authz.handle(bearer("GET", "/api/automate", service_token()))
    aws.put_signing_key("k2")  # rotated while the old versions sit in the cache
    policy = authz.handle(bearer("GET", "/api/automate", service_token(kid="k2")))
    assert policy["principalId"] == "svc-payments"
