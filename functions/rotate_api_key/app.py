"""POST /api/admin/api-keys/{keyId}/rotate (workflow:admin): start a rotation of the key now."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import api_keys
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("rotate_api_key")


@endpoint.route
def rotate(request: ApiRequest, keyId: str) -> Response[dict[str, Any]]:
    """202; the rotation function does the work."""
    caller = request.authorize()
    started = api_keys.default_admin().rotate(api_keys.parse_key_id(keyId))
    audit(
        "api_key.rotation_started",
        caller,
        request.request_id,
        api_key_id=started.key_id,
        version_id=started.version_id,
    )
    metrics.add_metric(name="ApiKeyRotationStarted", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"keyId": started.key_id, "versionId": started.version_id},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
