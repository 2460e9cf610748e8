"""`DELETE /api/admin/api-keys/{keyId}` (workflow:admin): revoke the key.

The key is refused by the authorizer as soon as its caches expire (see `shared.api_key_admin`
for the order of the writes); its secret is scheduled for deletion. Answers 200.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from shared.admin_http import LazyAdmin, admin_caller, admin_resolver
from shared.api_key_admin import AdminSettings, parse_key_id
from shared.observability import logger, metrics

SETTINGS = AdminSettings.from_env(needs_rotation_function=False)
ADMIN = LazyAdmin(SETTINGS)
app = admin_resolver()


@app.delete("/api/admin/api-keys/<keyId>")
def revoke_api_key(keyId: str) -> dict[str, Any]:
    actor = admin_caller(app, "revoke_api_key")
    revoked = ADMIN().revoke(actor, parse_key_id(keyId))
    deletion = revoked.deletion_date.isoformat() if revoked.deletion_date else None
    return {"keyId": revoked.key_id, "revoked": True, "deletionDate": deletion}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
