"""GET /.well-known/oauth-authorization-server (no authorizer): the token service's RFC 8414
metadata (docs/token-service.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import clients
from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("get_oauth_metadata")


@endpoint.route
def metadata(request: ApiRequest) -> Response[dict[str, Any]]:
    """200 with the metadata; public, cacheable for an hour."""
    base = f"https://{request.domain_name or 'localhost'}{request.base_path}"
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=clients.default_service().metadata(base),
        headers={"Cache-Control": "public, max-age=3600"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
