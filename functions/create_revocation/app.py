"""POST /api/admin/revocations: revoke one token (jti) or every token of a subject so far."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import revocations
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("create_revocation")


@endpoint.route
def create_revocation(request: ApiRequest) -> Response[dict[str, Any]]:
    caller = request.authorize()
    revocation = revocations.default_store().revoke(
        request.json_body(), revoked_by=caller.principal
    )
    audit(
        "revoke_token",
        caller,
        request.request_id,
        target=revocation.kind,
        value=revocation.value,
    )
    return Response(201, content_types.APPLICATION_JSON, revocation.as_json())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
