"""`POST /api/admin/api-keys` through its handler, against moto, with the authorizer's context."""

from __future__ import annotations

import os
from typing import Any

import pytest

from functions.create_api_key import app as create_app
from shared.api_key_admin import AdminSettings, ApiKeyAdmin
from shared.secret_formats import ApiKeyRecord, parse_api_key
from shared.settings import AuthorizerSettings
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
    assert answer.body["rotateAfterDays"] == create_app.SETTINGS.rotate_after_days == 90
    described = aws.sm.describe_secret(SecretId=PREFIX + answer.body["keyId"])
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 90


def test_a_key_without_scopes_may_be_issued(aws: Aws) -> None:
    """`GET /api/internal` is open to any valid key: a scope-less key is meaningful."""
    assert issue({"principal": "legacy-cron", "scopes": []}).body["scopes"] == []


def test_duplicate_scopes_are_stored_once(aws: Aws) -> None:
    answer = issue({"principal": "reporting", "scopes": ["workflow:read", "workflow:read"]})
    assert answer.body["scopes"] == ["workflow:read"]


TOO_MANY_SCOPES = [f"workflow:read:wf-{i}" for i in range(65)]
BAD_BODIES: list[Any] = [
    pytest.param({"principal": "svc", "scopes": ["workflow:everything"]}, id="unknown-scope"),
    pytest.param({"principal": "svc", "scopes": ["workflow:admin:wf-1"]}, id="narrowed-admin"),
    pytest.param({"principal": "svc", "scopes": ["workflow:read:bad id"]}, id="bad-workflow-id"),
    pytest.param({"principal": "svc", "scopes": ["Workflow:Read"]}, id="scope-case"),
    pytest.param({"principal": "svc", "scopes": "workflow:read"}, id="scopes-not-a-list"),
    pytest.param({"principal": "svc", "scopes": [1]}, id="scope-not-a-string"),
    pytest.param({"principal": "svc"}, id="scopes-missing"),
    pytest.param({"principal": "svc", "scopes": TOO_MANY_SCOPES}, id="too-many-scopes"),
    pytest.param({"principal": "", "scopes": []}, id="principal-empty"),
    pytest.param({"principal": "two words", "scopes": []}, id="principal-space"),
    pytest.param({"principal": "x" * 129, "scopes": []}, id="principal-too-long"),
    pytest.param({"principal": 7, "scopes": []}, id="principal-not-a-string"),
    pytest.param({"scopes": []}, id="principal-missing"),
    pytest.param({"principal": "svc", "scopes": [], "rotateAfterDays": 0}, id="days-zero"),
    pytest.param({"principal": "svc", "scopes": [], "rotateAfterDays": 1001}, id="days-too-many"),
    pytest.param({"principal": "svc", "scopes": [], "rotateAfterDays": "30"}, id="days-string"),
    pytest.param({"principal": "svc", "scopes": [], "rotateAfterDays": True}, id="days-bool"),
    pytest.param({"principal": "svc", "scopes": [], "admin": True}, id="unknown-field"),
    pytest.param(["principal", "svc"], id="not-an-object"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_invalid_input_is_400_and_creates_nothing(aws: Aws, body: Any) -> None:
    """(The sample event `invalid-scope.json` is replayed in test_event_replay.py.)"""
    answer = invoke("create_api_key", create_event(body))
    assert (answer.status, answer.body) == (400, {"message": "Bad Request"})
    assert _secret_names(aws) == []


@pytest.mark.parametrize("raw", ["", "{not json", "null"])
def test_a_missing_or_malformed_body_is_400(aws: Aws, raw: str) -> None:
    event = create_event()
    event["body"] = raw or None
    answer = invoke("create_api_key", event)
    assert (answer.status, answer.body) == (400, {"message": "Bad Request"})


@pytest.mark.parametrize("scopes", ["workflow:read", "workflow:trigger workflow:read", ""])
def test_a_caller_without_admin_is_403(aws: Aws, scopes: str) -> None:
    answer = invoke("create_api_key", create_event(scopes=scopes))
    assert (answer.status, answer.body) == (403, {"message": "Forbidden"})
    assert _secret_names(aws) == []


@pytest.mark.parametrize("scheme", ["api_key", "unknown"])
def test_a_scheme_the_route_does_not_take_is_403(aws: Aws, scheme: str) -> None:
    """Only bearer tokens reach admin routes; an API key holding workflow:admin does not."""
    answer = invoke("create_api_key", create_event(scheme=scheme, key_id="demokey000000001"))
    assert (answer.status, answer.body) == (403, {"message": "Forbidden"})
    assert _secret_names(aws) == []


@pytest.mark.parametrize("scheme", ["jwt", "oauth"])
def test_both_bearer_schemes_may_issue(aws: Aws, scheme: str) -> None:
    assert invoke("create_api_key", create_event(scheme=scheme)).status == 201


def test_no_authorizer_context_fails_closed(aws: Aws) -> None:
    answer = invoke("create_api_key", create_event(no_authorizer=True))
    assert (answer.status, answer.body) == (500, {"message": "Internal Server Error"})
    assert _secret_names(aws) == []


def test_a_failed_schedule_takes_the_key_back(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key is never handed out without its rotation schedule."""
    settings = AdminSettings(
        api_key_secret_prefix=PREFIX,
        rotation_function_arn="arn:aws:lambda:us-east-1:123456789012:function:does-not-exist",
    )
    monkeypatch.setattr(create_app.ADMIN, "instance", ApiKeyAdmin(aws.sm, settings))
    answer = invoke("create_api_key", create_event())
    assert (answer.status, answer.body) == (500, {"message": "Internal Server Error"})
    assert _secret_names(aws) == []


def test_the_issue_is_audited_and_the_key_never_logged(
    aws: Aws, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = issue()
    (audit,) = [r for r in caplog.records if r.getMessage() == "api key issued"]
    assert audit.__dict__["actor"] == "ops-admin"
    assert audit.__dict__["key_id"] == answer.body["keyId"]
    assert audit.__dict__["principal"] == "billing-service"
    secret_part = answer.body["apiKey"].rsplit("_", 1)[1]
    logged = capsys.readouterr().out + "".join(repr(r.__dict__) for r in caplog.records)
    assert secret_part not in logged
    assert '"ApiKeyIssued":[1.0]' in logged.replace(" ", "")
