"""GET /api/secure-automate: echo the OAuth caller's identity."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http_api import authorize, install_error_handlers, resolve
from shared.observability import logger, metrics

app = APIGatewayRestResolver()
install_error_handlers(app)


@app.get("/api/secure-automate")
def secure_automate() -> dict[str, Any]:
    caller = authorize(app, "get_secure_automate")
    return {"message": "Secure workflow executed!", "user": caller.as_claims()}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return resolve(app, event, context)
