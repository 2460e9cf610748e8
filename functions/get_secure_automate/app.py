"""GET /api/secure-automate: echo the OAuth caller's identity."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http_api import ApiRequest, Endpoint
from shared.observability import logger, metrics

endpoint = Endpoint("get_secure_automate")


@endpoint.route
def secure_automate(request: ApiRequest) -> dict[str, Any]:
    caller = request.authorize()
    return {"message": "Secure workflow executed!", "user": caller.as_claims()}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
