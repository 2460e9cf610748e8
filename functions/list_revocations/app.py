"""GET /api/admin/revocations: the active revocations, a page at a time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import revocations
from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("list_revocations")


@endpoint.route
def list_revocations(request: ApiRequest) -> dict[str, Any]:
    request.authorize()
    page = request.page(default_limit=revocations.DEFAULT_PAGE_SIZE)
    active, next_token = revocations.default_store().active(page)
    return {"revocations": [r.as_json() for r in active], "nextToken": next_token}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
