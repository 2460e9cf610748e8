"""`POST /api/admin/api-keys` through its handler, against moto, with the authorizer's context."""

from __future__ import annotations

import os
from typing import Any

import pytest

from shared import api_keys
from shared.secret_formats import ApiKeyRecord, parse_api_key
from shared.settings import AuthorizerSettings
from tests.conftest import LogLines
from tests.integration.admin.admin_support import create_event, invoke, issue
from tests.integration.rotation.support import (
    PREFIX,
    Aws,
    Clocks,
    api_key_call,
    real_authorizer,
)


def _secret_names(aws: Aws) -> list[str]:
    return [s["Name"] for s in aws.sm.list_secrets()["SecretList"]]


def test_issues_a_key_with_its_secret_and_rotation_schedule(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = invoke("create_api_key", create_event())
    assert answer.status == 201
    key_id = answer.body["keyId"]
    assert parse_api_key(answer.body["apiKey"]) == key_id
    assert answer.body["principal"] == "billing-service"
    assert answer.body["scopes"] == ["workflow:read", "workflow:trigger:nightly-report"]
    assert answer.body["rotateAfterDays"] == 30
    assert answer.headers["Location"] == f"/v1/api/admin/api-keys/{key_id}"
    assert answer.headers["Cache-Control"] == "no-store"

    name = PREFIX + key_id
    stored = ApiKeyRecord.parse(
        aws.sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert stored == ApiKeyRecord(
        answer.body["apiKey"],
        "billing-service",
        ("workflow:read", "workflow:trigger:nightly-report"),
    )
    described = aws.sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == os.environ["ROTATION_FUNCTION_ARN"]
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30

    # The key works at once with the real authorizer.
    from authorizer import app as authorizer_app  # noqa: PLC0415

    settings = AuthorizerSettings(api_key_secret_prefix=PREFIX)
    monkeypatch.setattr(authorizer_app, "AUTHORIZER", real_authorizer(aws, settings, Clocks()))
    assert api_key_call(answer.body["apiKey"]) == "allow"


def test_rotation_defaults_to_the_configured_days(aws: Aws) -> None:
    answer = issue({"principal": "reporting", "scopes": ["workflow:read"]})
    assert answer.body["rotateAfterDays"] == api_keys.DEFAULT_ROTATE_AFTER_DAYS == 90
    described = aws.sm.describe_secret(SecretId=PREFIX + answer.body["keyId"])
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 90


def test_a_key_without_scopes_may_be_issued(aws: Aws) -> None:
    """`GET /api/internal` is open to any valid key: a scope-less key is meaningful."""
    assert issue({"principal": "legacy-cron", "scopes": []}).body["scopes"] == []


def test_duplicate_scopes_are_stored_once(aws: Aws) -> None:
    answer = issue({"principal": "reporting", "scopes": ["workflow:read", "workflow:read"]})
    assert answer.body["scopes"] == ["workflow:read"]


TOO_MANY_SCOPES = [f"workflow:read:wf-{i}" for i in range(65)]
SCOPES, PRINCIPAL, DAYS, BODY = (
    "invalid_scopes",
    "invalid_principal",
    "invalid_rotate_after_days",
    "invalid_body",
)
BAD_BODIES: list[Any] = [
    pytest.param({"principal": "svc", "scopes": ["workflow:everything"]}, SCOPES, id="unknown"),
    pytest.param(
        {"principal": "svc", "scopes": ["workflow:admin:wf-1"]}, SCOPES, id="admin-narrow"
    ),
    pytest.param({"principal": "svc", "scopes": ["workflow:read:bad id"]}, SCOPES, id="bad-wf-id"),
    pytest.param({"principal": "svc", "scopes": ["Workflow:Read"]}, SCOPES, id="scope-case"),
    pytest.param({"principal": "svc", "scopes": "workflow:read"}, SCOPES, id="scopes-string"),
    pytest.param({"principal": "svc", "scopes": [1]}, SCOPES, id="scope-not-a-string"),
    pytest.param({"principal": "svc"}, SCOPES, id="scopes-missing"),
    pytest.param({"principal": "svc", "scopes": TOO_MANY_SCOPES}, SCOPES, id="too-many-scopes"),
    pytest.param({"principal": "", "scopes": []}, PRINCIPAL, id="principal-empty"),
    pytest.param({"principal": "two words", "scopes": []}, PRINCIPAL, id="principal-space"),
    pytest.param({"principal": "x" * 129, "scopes": []}, PRINCIPAL, id="principal-too-long"),
    pytest.param({"principal": 7, "scopes": []}, PRINCIPAL, id="principal-not-a-string"),
    pytest.param({"scopes": []}, PRINCIPAL, id="principal-missing"),
    pytest.param({"principal": "svc", "scopes": [], "rotateAfterDays": 0}, DAYS, id="days-zero"),
    pytest.param({"principal": "s", "scopes": [], "rotateAfterDays": 1001}, DAYS, id="days-many"),
    pytest.param({"principal": "s", "scopes": [], "rotateAfterDays": "30"}, DAYS, id="days-str"),
    pytest.param({"principal": "s", "scopes": [], "rotateAfterDays": True}, DAYS, id="days-bool"),
    pytest.param({"principal": "svc", "scopes": [], "admin": True}, BODY, id="unknown-field"),
    pytest.param(["principal", "svc"], BODY, id="not-an-object"),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
def test_invalid_input_is_400_and_creates_nothing(aws: Aws, body: Any, code: str) -> None:
    """(The sample event `invalid-scope.json` is replayed in test_event_replay.py.)"""
    answer = invoke("create_api_key", create_event(body))
    assert (answer.status, answer.body["error"]) == (400, code)
    assert _secret_names(aws) == []


@pytest.mark.parametrize("raw", ["", "{not json", "null", '{"principal": NaN}'])
def test_a_missing_or_malformed_body_is_400(aws: Aws, raw: str) -> None:
    event = create_event()
    event["body"] = raw or None
    answer = invoke("create_api_key", event)
    assert (answer.status, answer.body["error"]) == (400, "invalid_body")
    assert _secret_names(aws) == []


def test_a_body_not_declared_json_is_415(aws: Aws) -> None:
    event = create_event()
    event["headers"]["Content-Type"] = "text/plain"
    event["multiValueHeaders"]["Content-Type"] = ["text/plain"]
    assert invoke("create_api_key", event).status == 415
    assert _secret_names(aws) == []


@pytest.mark.parametrize("scopes", ["workflow:read", "workflow:trigger workflow:read", ""])
def test_a_caller_without_admin_is_403(aws: Aws, scopes: str) -> None:
    answer = invoke("create_api_key", create_event(scopes=scopes))
    assert (answer.status, answer.body["error"]) == (403, "forbidden")
    assert _secret_names(aws) == []


@pytest.mark.parametrize("scheme", ["api_key", "unknown"])
def test_a_scheme_the_route_does_not_take_is_403(aws: Aws, scheme: str) -> None:
    """Only bearer tokens reach admin routes; an API key holding workflow:admin does not."""
    answer = invoke("create_api_key", create_event(scheme=scheme, key_id="demokey000000001"))
    assert (answer.status, answer.body["error"]) == (403, "forbidden")
    assert _secret_names(aws) == []


@pytest.mark.parametrize("scheme", ["jwt", "oauth"])
def test_both_bearer_schemes_may_issue(aws: Aws, scheme: str) -> None:
    assert invoke("create_api_key", create_event(scheme=scheme)).status == 201


def test_no_authorizer_context_fails_closed(aws: Aws) -> None:
    answer = invoke("create_api_key", create_event(no_authorizer=True))
    assert (answer.status, answer.body["error"]) == (403, "forbidden")
    assert _secret_names(aws) == []


def test_a_failed_schedule_takes_the_key_back(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key is never handed out without its rotation schedule."""
    missing = "arn:aws:lambda:us-east-1:123456789012:function:does-not-exist"
    monkeypatch.setenv("ROTATION_FUNCTION_ARN", missing)
    api_keys.default_admin.cache_clear()
    answer = invoke("create_api_key", create_event())
    assert (answer.status, answer.body["error"]) == (502, "upstream_error")
    assert _secret_names(aws) == []


def test_the_issue_is_audited_and_the_key_never_logged(
    aws: Aws, log_lines: LogLines, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = issue()
    (audit,) = [line for line in log_lines() if line.get("action") == "api_key.issued"]
    assert audit["principal"] == "ops-admin"  # who
    assert audit["api_key_id"] == answer.body["keyId"]  # which key
    assert audit["api_key_principal"] == "billing-service"
    secret_part = answer.body["apiKey"].split("_", 2)[2]
    logged = capsys.readouterr().out + "".join(map(repr, log_lines()))
    assert secret_part not in logged
    assert '"ApiKeyIssued":[1.0]' in logged.replace(" ", "")
