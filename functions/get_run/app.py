"""GET /api/workflows/{workflowId}/runs/{runId}: one run's status, input, output."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import runs
from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("get_run")


@endpoint.route
def get_run(request: ApiRequest, workflowId: str, runId: str) -> dict[str, Any]:
    request.authorize(workflowId)
    return runs.default_service().get_run(workflowId, runs.check_run_id(runId)).as_json()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
