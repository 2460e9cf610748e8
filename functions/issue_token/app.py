"""POST /oauth/token (no authorizer): the token service, RFC 6749 section 4.4 (client
credentials). The client authenticates here, by secret or by private_key_jwt; the logic, its
audit line and its metrics are `shared.clients.TokenService` (docs/token-service.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import clients
from shared.http_api import NO_STORE_HEADERS, ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("issue_token")


@endpoint.route
def issue_token(request: ApiRequest) -> Response[dict[str, Any]]:
    """200 with the token, never cached; RFC 6749 section 5.2 errors otherwise."""
    service = clients.default_service()
    token = service.issue(
        clients.TokenHttpRequest(
            body=request.event.body,
            is_base64_encoded=bool(request.event.is_base64_encoded),
            content_types=request.header_values("Content-Type"),
            authorizations=request.header_values("Authorization"),
            source_ip=request.source_ip,
            request_id=request.request_id,
            endpoint_url=service.token_endpoint(_called_base(request)),
            dpop_proofs=request.header_values("DPoP"),
        )
    )
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=token.as_response(),
        headers=dict(NO_STORE_HEADERS),
    )


def _called_base(request: ApiRequest) -> str:
    """The base URL the client called (used when `PUBLIC_BASE_URL` is unset)."""
    return f"https://{request.domain_name or 'localhost'}{request.base_path}"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
