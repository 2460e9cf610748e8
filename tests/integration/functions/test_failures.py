"""Our side failing, and requests that never got past the authorizer properly: the client gets
a fixed JSON body with the right status, never a stack trace; details stay in the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from shared import runs
from shared.runs import service as runs_service
from tests.integration.functions.conftest import Invoke
from tests.integration.functions.support import (
    CANCEL,
    RUN,
    RUNS,
    api_event,
    body_of,
    header_of,
    state_machine_arn,
)

WORKFLOWS = {"demo": state_machine_arn("demo")}

CALLS: dict[str, tuple[str, str, dict[str, str], str | None]] = {
    # function: (method, resource, path parameters, body)
    "start_run": ("POST", RUNS, {"workflowId": "demo"}, '{"input": {}}'),
    "trigger_workflow": ("POST", "/api/trigger", {}, '{"workflowId": "demo"}'),
    "list_runs": ("GET", RUNS, {"workflowId": "demo"}, None),
    "get_run": ("GET", RUN, {"workflowId": "demo", "runId": "r1"}, None),
    "cancel_run": ("POST", CANCEL, {"workflowId": "demo", "runId": "r1"}, None),
}
FIRST_CALL = {
    "start_run": "start_execution",
    "trigger_workflow": "start_execution",
    "list_runs": "list_executions",
    "get_run": "describe_execution",
    "cancel_run": "describe_execution",
}


def call(invoke: Invoke, function: str) -> dict[str, Any]:
    method, resource, params, body = CALLS[function]
    return invoke(function, api_event(method, resource, params or None, body=body))


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The handlers' service on a client whose answers the test scripts."""
    client = boto3.client("stepfunctions", region_name="us-east-1")
    monkeypatch.setenv("WORKFLOWS", json.dumps(WORKFLOWS))
    monkeypatch.setattr(runs_service, "new_client", lambda: client)
    runs.default_service.cache_clear()
    with Stubber(client) as stubber:
        yield stubber
    runs.default_service.cache_clear()


@pytest.mark.parametrize("function", sorted(CALLS))
@pytest.mark.parametrize(
    "code", ["ThrottlingException", "TooManyRequestsException", "ExecutionLimitExceeded"]
)
def test_throttling_is_503_with_retry_after(
    stubbed: Stubber, invoke: Invoke, function: str, code: str
) -> None:
    stubbed.add_client_error(FIRST_CALL[function], service_error_code=code, http_status_code=400)

    response = call(invoke, function)

    assert response["statusCode"] == 503
    assert header_of(response, "Retry-After") == "2"
    assert body_of(response) == {
        "error": "service_unavailable",
        "message": "The service is busy; retry later.",
    }


@pytest.mark.parametrize("function", sorted(CALLS))
def test_other_engine_errors_are_502_without_details(
    stubbed: Stubber, invoke: Invoke, function: str, caplog: pytest.LogCaptureFixture
) -> None:
    stubbed.add_client_error(
        FIRST_CALL[function],
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::123456789012:assumed-role/x is not authorized",
        http_status_code=400,
    )

    response = call(invoke, function)

    assert response["statusCode"] == 502
    assert "arn:" not in response["body"]
    assert body_of(response)["error"] == "upstream_error"
    # ... while the log keeps what an operator needs.
    assert any("AccessDeniedException" in str(vars(r).get("detail")) for r in caplog.records)


def test_unreachable_engine_is_503(
    monkeypatch: pytest.MonkeyPatch, stubbed: Stubber, invoke: Invoke
) -> None:
    def unreachable(**_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com")

    service = runs.default_service()
    monkeypatch.setattr(service._client, "list_executions", unreachable)

    response = call(invoke, "list_runs")

    assert response["statusCode"] == 503
    assert header_of(response, "Retry-After")


@pytest.mark.parametrize("value", [None, "", "[]", "{bad", '{"demo": "not-an-arn"}', '{"a b": 1}'])
def test_misconfigured_workflows_is_a_generic_500(
    monkeypatch: pytest.MonkeyPatch, invoke: Invoke, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("WORKFLOWS", raising=False)
    else:
        monkeypatch.setenv("WORKFLOWS", value)
    runs.default_service.cache_clear()
    try:
        response = call(invoke, "list_runs")
    finally:
        runs.default_service.cache_clear()

    assert response["statusCode"] == 500
    assert body_of(response) == {"error": "internal_error", "message": "Internal error."}


@pytest.mark.parametrize("function", sorted(CALLS))
def test_event_without_authorizer_context_is_refused(invoke: Invoke, function: str) -> None:
    method, resource, params, body = CALLS[function]
    event = api_event(method, resource, params or None, body=body)
    del event["requestContext"]["authorizer"]

    response = invoke(function, event)

    assert response["statusCode"] == 403


def test_a_function_reached_on_a_route_it_does_not_serve_is_404(invoke: Invoke) -> None:
    event = api_event("GET", "/api/automate")

    response = invoke("get_internal", event)

    assert response["statusCode"] == 404
    assert body_of(response) == {"error": "not_found", "message": "Not found."}


class TestEchoRoutes:
    CASES = (
        ("get_automate", "/api/automate", "jwt", "Workflow triggered!"),
        ("get_secure_automate", "/api/secure-automate", "oauth", "Secure workflow executed!"),
    )

    @pytest.mark.parametrize(("function", "path", "scheme", "message"), CASES)
    def test_echo_returns_the_callers_claims_and_never_the_token(
        self, invoke: Invoke, function: str, path: str, scheme: str, message: str
    ) -> None:
        event = api_event("GET", path, scheme=scheme, principal="who", scopes="workflow:read")

        response = invoke(function, event)

        assert response["statusCode"] == 200
        assert body_of(response) == {
            "message": message,
            "user": {"principal": "who", "scheme": scheme, "scopes": ["workflow:read"]},
        }
        assert "not-a-real-token" not in response["body"]

    @pytest.mark.parametrize(("function", "path", "scheme", "message"), CASES)
    def test_echo_refuses_the_other_schemes(
        self, invoke: Invoke, function: str, path: str, scheme: str, message: str
    ) -> None:
        for other in {"jwt", "oauth", "api_key"} - {scheme}:
            response = invoke(function, api_event("GET", path, scheme=other))
            assert response["statusCode"] == 403, other

    def test_internal_answers_api_key_callers_only(self, invoke: Invoke) -> None:
        ok = invoke("get_internal", api_event("GET", "/api/internal", scheme="api_key"))
        refused = invoke("get_internal", api_event("GET", "/api/internal", scheme="jwt"))

        assert json.loads(ok["body"]) == {
            "message": "Internal workflow endpoint secured.",
            "principal": "svc-test",
        }
        assert refused["statusCode"] == 403


def _described(status: str, **extra: Any) -> dict[str, Any]:
    arn = state_machine_arn("demo")
    return {
        "executionArn": arn.replace(":stateMachine:", ":execution:") + ":r1",
        "stateMachineArn": arn,
        "status": status,
        "startDate": datetime(2026, 1, 1, tzinfo=UTC),
        **extra,
    }


def test_run_that_finishes_while_being_cancelled_is_409(stubbed: Stubber, invoke: Invoke) -> None:
    stubbed.add_response("describe_execution", _described("RUNNING"))
    stubbed.add_response("stop_execution", {"stopDate": datetime(2026, 1, 1, tzinfo=UTC)})
    # StopExecution "succeeded", but the run had already completed on its own.
    stubbed.add_response("describe_execution", _described("SUCCEEDED"))

    response = call(invoke, "cancel_run")

    assert response["statusCode"] == 409
    assert body_of(response)["error"] == "run_not_running"
    stubbed.assert_no_pending_responses()


def test_name_collision_without_idempotency_key_is_not_a_replay(
    stubbed: Stubber, invoke: Invoke
) -> None:
    # Only possible if two random UUIDs collide: never answer with someone else's run.
    stubbed.add_client_error("start_execution", service_error_code="ExecutionAlreadyExists")

    response = call(invoke, "start_run")

    assert response["statusCode"] == 502


def test_run_with_foreign_input_and_output_is_shown_as_is(stubbed: Stubber, invoke: Invoke) -> None:
    stubbed.add_response(
        "describe_execution",
        _described("SUCCEEDED", input='"just a string"', output="not json {"),
    )

    body = body_of(call(invoke, "get_run"))

    assert body["input"] == "just a string"
    assert body["output"] == "not json {"
    assert body["startedBy"] is None
