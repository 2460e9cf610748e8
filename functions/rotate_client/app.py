"""POST /api/admin/clients/{clientId}/rotate (workflow:admin): rotate a client's secret now."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import clients
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("rotate_client")


@endpoint.route
def rotate(request: ApiRequest, clientId: str) -> Response[dict[str, Any]]:
    """202; the rotation function does the work (the old secret stays valid for the grace
    window)."""
    caller = request.authorize()
    started = clients.default_admin().rotate(clients.parse_client_id(clientId))
    audit(
        "client.rotation_started",
        caller,
        request.request_id,
        rotated_client_id=started.client_id,
        version_id=started.version_id,
    )
    metrics.add_metric(name="ClientRotationStarted", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"clientId": started.client_id, "versionId": started.version_id},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
