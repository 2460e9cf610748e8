"""`POST /api/admin/api-keys/{keyId}/rotate` (workflow:admin): start a rotation of the key now.

Answers 202 with the new version's id; the rotation function does the work, asynchronously,
and the key's holders read the new value from its secret. 409 while a rotation is in progress.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from shared.admin_http import LazyAdmin, admin_caller, admin_resolver
from shared.api_key_admin import AdminSettings, parse_key_id
from shared.observability import logger, metrics

SETTINGS = AdminSettings.from_env()
ADMIN = LazyAdmin(SETTINGS)
app = admin_resolver()


@app.post("/api/admin/api-keys/<keyId>/rotate")
def rotate_api_key(keyId: str) -> Response[dict[str, Any]]:
    actor = admin_caller(app, "rotate_api_key")
    started = ADMIN().rotate(actor, parse_key_id(keyId))
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type=content_types.APPLICATION_JSON,
        body={"keyId": started.key_id, "versionId": started.version_id},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
