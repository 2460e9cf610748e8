"""GET /api/admin/revocations: the active revocations, a page at a time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http_api import authorize, install_error_handlers, resolve
from shared.observability import logger, metrics
from shared.revocations import InvalidRevocationError, default_store

app = APIGatewayRestResolver()
install_error_handlers(app)


@app.get("/api/admin/revocations")
def list_revocations() -> dict[str, Any]:
    authorize(app, "list_revocations")
    raw_limit = app.current_event.get_query_string_value("limit", "50") or "50"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise InvalidRevocationError("limit")
    token = app.current_event.get_query_string_value("nextToken")
    revocations, next_token = default_store().active(int(raw_limit), token)
    return {"revocations": [r.as_json() for r in revocations], "nextToken": next_token}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return resolve(app, event, context)
