"""POST /api/admin/revocations: revoke one token (jti) or every token of a subject so far."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http_api import audit, authorize, install_error_handlers, json_body, request_id, resolve
from shared.observability import logger, metrics
from shared.revocations import default_store

app = APIGatewayRestResolver()
install_error_handlers(app)


@app.post("/api/admin/revocations")
def create_revocation() -> Response[dict[str, Any]]:
    caller = authorize(app, "create_revocation")
    revocation = default_store().revoke(json_body(app), revoked_by=caller.principal)
    audit("revoke_token", caller, request_id(app), target=revocation.kind, value=revocation.value)
    return Response(201, content_types.APPLICATION_JSON, revocation.as_json())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return resolve(app, event, context)
