"""The workflow-run endpoints' HTTP glue: one function per endpoint, shared by the handler
functions (two of them start runs). Each validates input, authorizes, calls the service once,
audits what changed and shapes the answer; errors travel as domain errors to
`shared.http_api`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from shared.http_api import audit, authorize, base_path, header, json_body, request_id
from shared.observability import metrics
from shared.workflows import (
    check_run_id,
    default_service,
    parse_limit,
    parse_start_body,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"


def start_run(
    app: APIGatewayRestResolver,
    function: str,
    workflow_id: str | None = None,
) -> Response[dict[str, Any]]:
    """`POST /api/trigger` (workflow in the body) and `POST /api/workflows/{id}/runs`."""
    body = json_body(app)
    request = parse_start_body(
        body, workflow_id=workflow_id, idempotency_key=header(app, IDEMPOTENCY_HEADER)
    )
    # Authorize before looking the workflow up, so a caller learns nothing about workflows
    # outside its scopes (403, not 404).
    caller = authorize(app, function, request.workflow_id)
    rid = request_id(app)
    run = default_service().start_run(request, caller, rid)
    audit(
        "run.replayed" if run.replayed else "run.started",
        caller,
        rid,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        idempotent=request.idempotency_key is not None,
    )
    metrics.add_metric(
        name="RunReplayed" if run.replayed else "RunStarted", unit=MetricUnit.Count, value=1
    )
    location = f"{base_path(app)}/api/workflows/{run.workflow_id}/runs/{run.run_id}"
    headers = {"Location": location}
    if run.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=run.as_json(),
        headers=headers,
    )


def get_run(app: APIGatewayRestResolver, workflow_id: str, run_id: str) -> dict[str, Any]:
    authorize(app, "get_run", workflow_id)
    check_run_id(run_id)
    return default_service().get_run(workflow_id, run_id).as_json()


def list_runs(app: APIGatewayRestResolver, workflow_id: str) -> dict[str, Any]:
    authorize(app, "list_runs", workflow_id)
    query = app.current_event.query_string_parameters
    limit = parse_limit(query.get("limit"))
    page = default_service().list_runs(workflow_id, limit, query.get("nextToken"))
    return page.as_json()


def cancel_run(app: APIGatewayRestResolver, workflow_id: str, run_id: str) -> dict[str, Any]:
    caller = authorize(app, "cancel_run", workflow_id)
    check_run_id(run_id)
    rid = request_id(app)
    run = default_service().cancel_run(workflow_id, run_id, caller, rid)
    audit("run.cancelled", caller, rid, workflow_id=workflow_id, run_id=run_id)
    metrics.add_metric(name="RunCancelled", unit=MetricUnit.Count, value=1)
    return {
        "workflowId": workflow_id,
        "runId": run.run_id,
        "status": run.status,
        "stoppedAt": run.as_json()["stoppedAt"],
    }
