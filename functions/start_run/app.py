"""POST /api/workflows/{workflowId}/runs: start a run (202 with Location)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import runs
from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("start_run")


@endpoint.route
def start(request: ApiRequest, workflowId: str) -> Response[dict[str, Any]]:
    return runs.start_run(request, workflowId)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
