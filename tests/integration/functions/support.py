"""Helpers for the handler tests: a fake Lambda context, the moto engine, response readers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import ROOT

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
DEFINITION = (ROOT / "statemachines" / "demo.asl.json").read_text()
WORKFLOW_IDS = ("demo", "nightly-report")


def state_machine_arn(workflow_id: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{workflow_id}"


@dataclass
class FakeLambdaContext:
    function_name: str = "workflow-api-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:workflow-api-test"
    aws_request_id: str = "5b1e2c9d-aaaa-4bbb-8ccc-0123456789ab"


@dataclass
class Engine:
    """Step Functions in moto with the workflows of `WORKFLOW_IDS` created."""

    client: Any

    def seed_run(
        self, workflow_id: str, run_id: str, run_input: dict[str, Any] | None = None
    ) -> str:
        """Start an execution as the API would (the audit envelope), named `run_id`."""
        document = {
            "input": run_input or {},
            "audit": {
                "startedBy": {"principal": "seed", "scheme": "jwt"},
                "requestId": "seed-request",
                "requestHash": "0" * 64,
            },
        }
        arn: str = self.client.start_execution(
            stateMachineArn=state_machine_arn(workflow_id), name=run_id, input=json.dumps(document)
        )["executionArn"]
        return arn

    def wait_finished(self, execution_arn: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status: str = self.client.describe_execution(executionArn=execution_arn)["status"]
            if status != "RUNNING" or time.monotonic() > deadline:
                return status
            time.sleep(0.02)


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def header_of(response: dict[str, Any], name: str) -> str | None:
    """A response header, whether Powertools put it in `headers` or `multiValueHeaders`."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[0])
    return None


EVENTS_DIR: Path = ROOT / "events"


def api_event(
    method: str,
    resource: str,
    path_params: dict[str, str] | None = None,
    *,
    scopes: str = "workflow:admin",
    scheme: str = "jwt",
    principal: str = "svc-test",
    body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    request_id: str = "req-0001",
    context: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway proxy event as the authorizer would leave it, from a sample event."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / "start_run" / "start.json").read_text())
    path = resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", value)
    all_headers = {"Authorization": "Bearer example.not-a-real-token.signature"}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=all_headers,
        multiValueHeaders={key: [value] for key, value in all_headers.items()},
        pathParameters=path_params,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        body=body,
    )
    event["requestContext"].update(
        httpMethod=method,
        path="/v1" + path,
        resourcePath=resource,
        requestId=request_id,
        authorizer={
            "principalId": principal,
            "principal": principal,
            "scheme": scheme,
            "scopes": scopes,
            "integrationLatency": 12,
            # API Gateway hands the authorizer's numbers on as strings; tokens expire.
            **({"expires_at": str(int(time.time()) + 3600)} if scheme != "api_key" else {}),
            **(context or {}),
        },
    )
    return event


RUNS = "/api/workflows/{workflowId}/runs"
RUN = RUNS + "/{runId}"
CANCEL = RUN + "/cancel"
