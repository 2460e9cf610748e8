"""POST /api/admin/api-keys (workflow:admin): issue an API key, shown in this answer only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import admin_api
from shared.http_api import install_error_handlers, resolve
from shared.observability import logger, metrics

app = APIGatewayRestResolver()
install_error_handlers(app)


@app.post("/api/admin/api-keys")
def create() -> Response[dict[str, Any]]:
    return admin_api.create_api_key(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return resolve(app, event, context)
