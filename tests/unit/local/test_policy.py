"""Policy evaluation as API Gateway does it for Lambda authorizer output."""

from __future__ import annotations

from typing import Any

import pytest

from local.gateway.policy import Decision, MalformedOutputError, evaluate, parse_output

ARN = "arn:aws:execute-api:us-east-1:123456789012:localapi01/v1/GET/api/workflows/demo/runs/r1"
BASE = "arn:aws:execute-api:us-east-1:123456789012:localapi01/v1"


def stmt(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (ARN, Decision.ALLOW),
        (f"{BASE}/GET/api/workflows/*/runs/*", Decision.ALLOW),
        (f"{BASE}/*/api/workflows/demo/runs/r1", Decision.ALLOW),
        (f"{BASE}/*", Decision.ALLOW),
        (f"{BASE}/GET/api/workflows/dem?/runs/r?", Decision.ALLOW),
        (f"{BASE}/GET/api/workflows/de?/runs/r1", Decision.IMPLICIT_DENY),
        (f"{BASE}/POST/api/workflows/*/runs/*", Decision.IMPLICIT_DENY),
        (f"{BASE}/GET/api/workflows/other/runs/*", Decision.IMPLICIT_DENY),
        (f"{BASE}/get/api/workflows/demo/runs/r1", Decision.IMPLICIT_DENY),  # case-sensitive
        ([f"{BASE}/GET/api/automate", ARN], Decision.ALLOW),
        ([], Decision.IMPLICIT_DENY),
    ],
)
def test_allow_resources_with_wildcards(resource: Any, expected: Decision) -> None:
    assert evaluate((stmt("Allow", resource),), ARN) is expected


def test_explicit_deny_wins_over_allow_in_any_order() -> None:
    allow, deny = stmt("Allow", f"{BASE}/*"), stmt("Deny", f"{BASE}/GET/api/workflows/*")
    assert evaluate((allow, deny), ARN) is Decision.EXPLICIT_DENY
    assert evaluate((deny, allow), ARN) is Decision.EXPLICIT_DENY


def test_deny_on_another_route_leaves_allow() -> None:
    statements = (stmt("Allow", ARN), stmt("Deny", f"{BASE}/POST/*"))
    assert evaluate(statements, ARN) is Decision.ALLOW


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("execute-api:Invoke", Decision.ALLOW),
        ("execute-api:invoke", Decision.ALLOW),  # actions are case-insensitive
        ("execute-api:*", Decision.ALLOW),
        ("*", Decision.ALLOW),
        (["s3:GetObject", "execute-api:Inv?ke"], Decision.ALLOW),
        ("execute-api:ManageConnections", Decision.IMPLICIT_DENY),
    ],
)
def test_actions(action: Any, expected: Decision) -> None:
    assert evaluate((stmt("Allow", ARN, action),), ARN) is expected


def test_not_resource_and_not_action() -> None:
    not_resource = {"Effect": "Allow", "Action": "*", "NotResource": f"{BASE}/POST/*"}
    assert evaluate((not_resource,), ARN) is Decision.ALLOW
    not_action = {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}
    assert evaluate((stmt("Allow", "*"), not_action), ARN) is Decision.EXPLICIT_DENY


def test_parse_output_accepts_a_single_statement_object() -> None:
    output = parse_output(
        {"principalId": "p", "policyDocument": {"Statement": stmt("Allow", ARN)}, "context": {}}
    )
    assert output.principal_id == "p"
    assert evaluate(output.statements, ARN) is Decision.ALLOW


@pytest.mark.parametrize(
    "output",
    [
        None,
        {"policyDocument": {"Statement": []}},
        {"principalId": "p"},
        {"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Maybe"}]}},
        {"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Allow"}]}},
        {
            "principalId": "p",
            "policyDocument": {"Statement": []},
            "context": {"nested": {"a": 1}},
        },
        {"principalId": "p", "policyDocument": {"Statement": []}, "context": {"list": [1]}},
    ],
)
def test_malformed_outputs_are_refused(output: Any) -> None:
    with pytest.raises(MalformedOutputError):
        parse_output(output)
