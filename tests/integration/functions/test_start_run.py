"""Starting runs: `POST /api/workflows/{workflowId}/runs` and `POST /api/trigger`."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shared import runs
from shared.caller import Caller
from shared.runs import MAX_EXECUTION_INPUT_BYTES, StartRequest
from tests.conftest import LogLines
from tests.integration.functions.conftest import Invoke
from tests.integration.functions.support import (
    RUNS,
    Engine,
    api_event,
    body_of,
    header_of,
    state_machine_arn,
)


def start(
    invoke: Invoke, workflow_id: str = "demo", payload: Any = None, **kwargs: Any
) -> dict[str, Any]:
    body = kwargs.pop("body", json.dumps(payload if payload is not None else {"input": {}}))
    kwargs.setdefault("scopes", "workflow:trigger workflow:read")
    return invoke(
        "start_run", api_event("POST", RUNS, {"workflowId": workflow_id}, body=body, **kwargs)
    )


def trigger(invoke: Invoke, payload: Any, **kwargs: Any) -> dict[str, Any]:
    body = kwargs.pop("body", json.dumps(payload))
    kwargs.setdefault("scopes", "workflow:trigger")
    return invoke("trigger_workflow", api_event("POST", "/api/trigger", body=body, **kwargs))


def execution_input(engine: Engine, run_id: str) -> dict[str, Any]:
    arn = state_machine_arn("demo").replace(":stateMachine:", ":execution:") + ":" + run_id
    data: dict[str, Any] = json.loads(engine.client.describe_execution(executionArn=arn)["input"])
    return data


def test_start_answers_202_with_location_and_runs_the_workflow(
    engine: Engine, invoke: Invoke
) -> None:
    response = start(invoke, payload={"input": {"orderId": "ord-1"}}, principal="svc-orders")

    assert response["statusCode"] == 202
    body = body_of(response)
    assert body["status"] == "RUNNING"
    assert body["workflowId"] == "demo"
    # The stage is part of the URL the client called, so it is part of the Location.
    assert header_of(response, "Location") == f"/v1/api/workflows/demo/runs/{body['runId']}"
    sent = execution_input(engine, body["runId"])
    assert sent["input"] == {"orderId": "ord-1"}
    assert sent["audit"]["startedBy"] == {"principal": "svc-orders", "scheme": "jwt"}
    assert sent["audit"]["requestId"] == "req-0001"


def test_run_input_names_the_oauth_client(engine: Engine, invoke: Invoke) -> None:
    response = start(invoke, principal="p", scheme="oauth", context={"client_id": "portal"})

    started_by = execution_input(engine, body_of(response)["runId"])["audit"]["startedBy"]
    assert started_by == {"principal": "p", "scheme": "oauth", "clientId": "portal"}


def test_run_input_names_the_api_key(engine: Engine) -> None:
    # No route lets an API key start runs today; the service still records the key id.
    caller = Caller("cron", "api_key", ("workflow:trigger",), key_id="k3x9m2p7q4r8s1t6")

    run = runs.default_service().start_run(StartRequest("demo", {}), caller, "req-1")

    started_by = execution_input(engine, run.run_id)["audit"]["startedBy"]
    assert started_by == {"principal": "cron", "scheme": "api_key", "keyId": "k3x9m2p7q4r8s1t6"}


def test_start_writes_an_audit_line(engine: Engine, invoke: Invoke, log_lines: LogLines) -> None:
    response = start(invoke, principal="svc-orders", request_id="req-audit")

    audits = [line for line in log_lines() if line["message"] == "audit"]
    assert len(audits) == 1
    assert audits[0]["action"] == "run.started"
    assert audits[0]["principal"] == "svc-orders"
    assert audits[0]["workflow_id"] == "demo"
    assert audits[0]["run_id"] == body_of(response)["runId"]
    assert audits[0]["request_id"] == "req-audit"


def test_start_without_body_runs_with_empty_input(engine: Engine, invoke: Invoke) -> None:
    response = start(invoke, body=None)

    assert response["statusCode"] == 202
    assert execution_input(engine, body_of(response)["runId"])["input"] == {}


def test_base64_encoded_body_is_decoded(engine: Engine, invoke: Invoke) -> None:
    event = api_event(
        "POST",
        RUNS,
        {"workflowId": "demo"},
        body=base64.b64encode(json.dumps({"input": {"a": "é"}}).encode()).decode(),
    )
    event["isBase64Encoded"] = True

    response = invoke("start_run", event)

    assert response["statusCode"] == 202
    assert execution_input(engine, body_of(response)["runId"])["input"] == {"a": "é"}


@pytest.mark.parametrize("body", ["not base64!", base64.b64encode(b"\xff\xfe{}").decode()])
def test_undecodable_base64_body_is_400(engine: Engine, invoke: Invoke, body: str) -> None:
    event = api_event("POST", RUNS, {"workflowId": "demo"}, body=body)
    event["isBase64Encoded"] = True

    response = invoke("start_run", event)

    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "invalid_body"


class TestIdempotency:
    def test_retry_with_same_key_returns_the_same_run(self, engine: Engine, invoke: Invoke) -> None:
        payload = {"input": {"orderId": "ord-7"}}
        first = start(invoke, payload=payload, headers={"Idempotency-Key": "k-1"})
        # A retry is a new API Gateway request: another request id, same key and body.
        retry = start(
            invoke, payload=payload, headers={"Idempotency-Key": "k-1"}, request_id="req-0002"
        )

        assert first["statusCode"] == retry["statusCode"] == 202
        assert body_of(retry)["runId"] == body_of(first)["runId"]
        assert header_of(retry, "Idempotent-Replayed") == "true"
        assert header_of(retry, "Location") == header_of(first, "Location")
        executions = engine.client.list_executions(stateMachineArn=state_machine_arn("demo"))
        assert len(executions["executions"]) == 1

    def test_same_key_through_trigger_and_runs_is_one_run(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        first = start(invoke, payload={"input": {"x": 1}}, headers={"Idempotency-Key": "k-2"})
        retry = trigger(
            invoke,
            {"workflowId": "demo", "input": {"x": 1}},
            headers={"Idempotency-Key": "k-2"},
            request_id="req-0002",
        )

        assert body_of(retry)["runId"] == body_of(first)["runId"]

    def test_same_key_with_a_different_body_is_409(self, engine: Engine, invoke: Invoke) -> None:
        start(invoke, payload={"input": {"x": 1}}, headers={"Idempotency-Key": "k-3"})
        reused = start(
            invoke,
            payload={"input": {"x": 2}},
            headers={"Idempotency-Key": "k-3"},
            request_id="req-0002",
        )

        assert reused["statusCode"] == 409
        assert body_of(reused)["error"] == "idempotency_key_reused"

    def test_two_callers_with_the_same_key_get_two_runs(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        mine = start(invoke, headers={"Idempotency-Key": "shared"}, principal="alice")
        theirs = start(invoke, headers={"Idempotency-Key": "shared"}, principal="bob")

        assert mine["statusCode"] == theirs["statusCode"] == 202
        assert body_of(mine)["runId"] != body_of(theirs)["runId"]

    @pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there"])
    def test_malformed_key_is_400(self, engine: Engine, invoke: Invoke, key: str) -> None:
        response = start(invoke, headers={"Idempotency-Key": key})

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "invalid_idempotency_key"


class TestTriggerScopes:
    def test_narrowed_trigger_scope_starts_its_own_workflow(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        response = trigger(
            invoke,
            {"workflowId": "nightly-report", "input": {}},
            scopes="workflow:trigger:nightly-report",
        )

        assert response["statusCode"] == 202
        location = header_of(response, "Location") or ""
        assert location.startswith("/v1/api/workflows/nightly-report/runs/")

    def test_narrowed_trigger_scope_cannot_start_another_workflow(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        response = trigger(
            invoke, {"workflowId": "demo", "input": {}}, scopes="workflow:trigger:nightly-report"
        )

        assert response["statusCode"] == 403
        assert body_of(response) == {"error": "forbidden", "message": "Forbidden."}
        assert (
            engine.client.list_executions(stateMachineArn=state_machine_arn("demo"))["executions"]
            == []
        )

    def test_forbidden_beats_unknown_so_workflows_are_not_revealed(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        response = trigger(
            invoke, {"workflowId": "secret-wf", "input": {}}, scopes="workflow:trigger:demo"
        )

        assert response["statusCode"] == 403

    def test_read_scope_alone_cannot_trigger(self, engine: Engine, invoke: Invoke) -> None:
        response = trigger(invoke, {"workflowId": "demo", "input": {}}, scopes="workflow:read")

        assert response["statusCode"] == 403

    def test_api_key_callers_cannot_start_runs_whatever_their_scopes(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        response = trigger(
            invoke, {"workflowId": "demo", "input": {}}, scheme="api_key", scopes="workflow:admin"
        )

        assert response["statusCode"] == 403

    def test_admin_implies_trigger(self, engine: Engine, invoke: Invoke) -> None:
        response = trigger(invoke, {"workflowId": "demo", "input": {}}, scopes="workflow:admin")

        assert response["statusCode"] == 202


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "error"),
        [
            ("{not json", "invalid_body"),
            ("[1, 2]", "invalid_body"),
            ('"a string"', "invalid_body"),
            ('{"input": [1]}', "invalid_body"),
            ('{"input": {"n": NaN}}', "invalid_body"),
            ('{"inptu": {}}', "invalid_body"),
            ("[" * 50_000, "invalid_body"),
        ],
        ids=["not-json", "array", "string", "input-array", "nan", "typo-field", "deep-nesting"],
    )
    def test_malformed_body_is_400(
        self, engine: Engine, invoke: Invoke, body: str, error: str
    ) -> None:
        response = start(invoke, body=body)

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == error

    @pytest.mark.parametrize(
        "payload",
        [{}, {"workflowId": 7}, {"workflowId": ""}, {"input": {}}],
        ids=["empty", "number", "blank", "missing"],
    )
    def test_trigger_needs_a_workflow_id(
        self, engine: Engine, invoke: Invoke, payload: dict[str, Any]
    ) -> None:
        response = trigger(invoke, payload)

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "invalid_body"

    def test_trigger_without_body_is_400(self, engine: Engine, invoke: Invoke) -> None:
        response = trigger(invoke, None, body=None)

        assert response["statusCode"] == 400

    @pytest.mark.parametrize(
        "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "json"]
    )
    def test_body_not_declared_json_is_415(
        self, engine: Engine, invoke: Invoke, content_type: str | None
    ) -> None:
        event = api_event("POST", RUNS, {"workflowId": "demo"}, body='{"input": {}}')
        if content_type is None:
            del event["headers"]["Content-Type"]
        else:
            event["headers"]["Content-Type"] = content_type

        response = invoke("start_run", event)

        assert response["statusCode"] == 415
        assert body_of(response)["error"] == "unsupported_media_type"

    @pytest.mark.parametrize(
        "content_type",
        ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json"],
    )
    def test_json_media_types_are_accepted(
        self, engine: Engine, invoke: Invoke, content_type: str
    ) -> None:
        response = start(invoke, headers={"content-type": content_type})

        assert response["statusCode"] == 202

    def test_input_over_the_step_functions_limit_is_413(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        big = {"input": {"blob": "x" * MAX_EXECUTION_INPUT_BYTES}}

        response = start(invoke, payload=big)

        assert response["statusCode"] == 413
        assert body_of(response)["error"] == "input_too_large"

    def test_input_just_under_the_limit_is_accepted(self, engine: Engine, invoke: Invoke) -> None:
        # The envelope (audit data) takes a few hundred bytes of the 256 KiB.
        fits = {"input": {"blob": "x" * (MAX_EXECUTION_INPUT_BYTES - 1024)}}

        response = start(invoke, payload=fits)

        assert response["statusCode"] == 202

    def test_huge_body_is_413_before_parsing(self, engine: Engine, invoke: Invoke) -> None:
        response = start(invoke, body="[" * (2 * 1024 * 1024))

        assert response["statusCode"] == 413
        assert body_of(response)["error"] == "payload_too_large"

    def test_unknown_workflow_is_404(self, engine: Engine, invoke: Invoke) -> None:
        response = start(invoke, workflow_id="nope")

        assert response["statusCode"] == 404
        assert body_of(response) == {"error": "workflow_not_found", "message": "No such workflow."}


def test_audit_lines_survive_a_quiet_log_level(
    engine: Engine, invoke: Invoke, log_lines: LogLines
) -> None:
    """`POWERTOOLS_LOG_LEVEL=WARNING` quiets the logs, never the audit trail."""
    from shared.observability import logger  # noqa: PLC0415

    level = logger.log_level
    logger.setLevel("WARNING")
    try:
        response = start(invoke, principal="svc-orders", request_id="req-quiet")
    finally:
        logger.setLevel(level)

    assert response["statusCode"] == 202
    (audit,) = [line for line in log_lines() if line["message"] == "audit"]
    assert (audit["action"], audit["request_id"]) == ("run.started", "req-quiet")


def test_client_chosen_field_names_are_logged_bounded(
    engine: Engine, invoke: Invoke, log_lines: LogLines
) -> None:
    """Five unknown fields of 150 KB each once made one 800 KB log line."""
    body = {f"{letter}" * 150_000: 1 for letter in "abcde"}
    response = start(invoke, payload=body)

    assert response["statusCode"] == 400
    (refused,) = [line for line in log_lines() if line["message"] == "request refused"]
    assert len(json.dumps(refused)) < 2_000
