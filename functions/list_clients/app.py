"""GET /api/admin/clients (workflow:admin): the registered clients, never their secrets."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import clients
from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("list_clients")


@endpoint.route
def list_clients(request: ApiRequest) -> dict[str, Any]:
    """One page (`limit`, `nextToken`)."""
    request.authorize()
    page = request.page(default_limit=50)
    summaries, next_token = clients.default_admin().list(page.limit, page.next_token)
    body: dict[str, Any] = {"clients": [summary.as_json() for summary in summaries]}
    if next_token:
        body["nextToken"] = next_token
    return body


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
