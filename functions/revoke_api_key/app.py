"""DELETE /api/admin/api-keys/{keyId} (workflow:admin): revoke the key, schedule its deletion."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import api_keys
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("revoke_api_key")


@endpoint.route
def revoke(request: ApiRequest, keyId: str) -> dict[str, Any]:
    """200 once the key is revoked and its secret is scheduled for deletion."""
    caller = request.authorize()
    revoked = api_keys.default_admin().revoke(api_keys.parse_key_id(keyId))
    deletion = revoked.deletion_date.isoformat() if revoked.deletion_date else None
    audit(
        "api_key.revoked",
        caller,
        request.request_id,
        api_key_id=revoked.key_id,
        deletion_date=deletion,
    )
    metrics.add_metric(name="ApiKeyRevoked", unit=MetricUnit.Count, value=1)
    return {"keyId": revoked.key_id, "revoked": True, "deletionDate": deletion}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
