"""DELETE /api/admin/clients/{clientId} (workflow:admin): revoke a client."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import clients
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("revoke_client")


@endpoint.route
def revoke(request: ApiRequest, clientId: str) -> dict[str, Any]:
    """200; tokens already issued to the client stay valid until they expire (revoke the
    subject through /api/admin/revocations to cut that short)."""
    caller = request.authorize()
    revoked = clients.default_admin().revoke(clients.parse_client_id(clientId))
    audit(
        "client.revoked",
        caller,
        request.request_id,
        revoked_client_id=revoked.client_id,
        deletion_date=revoked.deletion_date,
    )
    metrics.add_metric(name="ClientRevoked", unit=MetricUnit.Count, value=1)
    return {"clientId": revoked.client_id, "revoked": True, "deletionDate": revoked.deletion_date}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
