"""GET /api/workflows/{workflowId}/runs: runs newest first, paginated."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import runs
from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("list_runs")


@endpoint.route
def list_runs(request: ApiRequest, workflowId: str) -> dict[str, Any]:
    request.authorize(workflowId)
    page = request.page(default_limit=runs.DEFAULT_PAGE_SIZE)
    return runs.default_service().list_runs(workflowId, page.limit, page.next_token).as_json()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
