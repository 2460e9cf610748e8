"""`POST /api/admin/api-keys` (workflow:admin): issue an API key, shown in this answer only.

Body `{"principal": str, "scopes": [str], "rotateAfterDays"?: int}`; answers 201 with the key,
its id and a `Location`. Logic and error mapping: `shared.api_key_admin`, `shared.admin_http`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from shared.admin_http import LazyAdmin, admin_caller, admin_resolver, location_of
from shared.api_key_admin import AdminSettings, parse_issue_request
from shared.observability import logger, metrics

SETTINGS = AdminSettings.from_env()
ADMIN = LazyAdmin(SETTINGS)
app = admin_resolver()


@app.post("/api/admin/api-keys")
def create_api_key() -> Response[dict[str, Any]]:
    actor = admin_caller(app, "create_api_key")
    request = parse_issue_request(app.current_event.decoded_body, SETTINGS.rotate_after_days)
    issued = ADMIN().issue(actor, request)
    return Response(
        status_code=HTTPStatus.CREATED.value,
        content_type=content_types.APPLICATION_JSON,
        body={
            "keyId": issued.key_id,
            "apiKey": issued.api_key,
            "principal": issued.principal,
            "scopes": list(issued.scopes),
            "rotateAfterDays": issued.rotate_after_days,
        },
        # The key is in this body and nowhere else: no cache may keep a copy.
        headers={"Location": location_of(app, issued.key_id), "Cache-Control": "no-store"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
