"""The start endpoint's body, shared by `POST /api/trigger` (workflow in the body) and
`POST /api/workflows/{workflowId}/runs` (workflow in the path)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from shared.http_api import ApiRequest, audit
from shared.observability import metrics
from shared.runs.model import IDEMPOTENCY_HEADER, parse_start_body
from shared.runs.service import default_service


def start_run(request: ApiRequest, workflow_id: str | None = None) -> Response[dict[str, Any]]:
    """202 with the run and its `Location`; `Idempotent-Replayed: true` for a replay."""
    start = parse_start_body(
        request.json_body(),
        workflow_id=workflow_id,
        idempotency_key=request.header(IDEMPOTENCY_HEADER),
    )
    # Authorize before looking the workflow up, so a caller learns nothing about workflows
    # outside its scopes (403, not 404).
    caller = request.authorize(start.workflow_id)
    run = default_service().start_run(start, caller, request.request_id)
    audit(
        "run.replayed" if run.replayed else "run.started",
        caller,
        request.request_id,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        idempotent=start.idempotency_key is not None,
    )
    metrics.add_metric(
        name="RunReplayed" if run.replayed else "RunStarted", unit=MetricUnit.Count, value=1
    )
    headers = {"Location": f"{request.base_path}/api/workflows/{run.workflow_id}/runs/{run.run_id}"}
    if run.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=run.as_json(),
        headers=headers,
    )
