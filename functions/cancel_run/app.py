"""POST /api/workflows/{workflowId}/runs/{runId}/cancel: stop a running run."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import runs
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("cancel_run")


@endpoint.route
def cancel(request: ApiRequest, workflowId: str, runId: str) -> dict[str, Any]:
    caller = request.authorize(workflowId)
    run_id = runs.check_run_id(runId)
    run = runs.default_service().cancel_run(workflowId, run_id, caller, request.request_id)
    audit("run.cancelled", caller, request.request_id, workflow_id=workflowId, run_id=run_id)
    metrics.add_metric(name="RunCancelled", unit=MetricUnit.Count, value=1)
    return {
        "workflowId": workflowId,
        "runId": run.run_id,
        "status": run.status,
        "stoppedAt": runs.iso(run.stopped_at),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
