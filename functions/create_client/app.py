"""POST /api/admin/clients (workflow:admin): register a token-service client; its secret is in
this answer only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import clients
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("create_client")


@endpoint.route
def create(request: ApiRequest) -> Response[dict[str, Any]]:
    """201 with the client (its secret shown this once) and Location."""
    caller = request.authorize()
    admin = clients.default_admin()
    registered = admin.register(clients.parse_register_request(request.json_body(), admin.settings))
    audit(
        "client.registered",
        caller,
        request.request_id,
        registered_client_id=registered.client_id,
        allowed_scopes=list(registered.allowed_scopes),
        has_secret=registered.client_secret is not None,
    )
    metrics.add_metric(name="ClientRegistered", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=registered.as_json(admin.token_endpoint()),
        # The secret is in this body and nowhere else: no cache may keep a copy.
        headers={
            "Location": f"{request.base_path}{endpoint.definition.path}/{registered.client_id}",
            "Cache-Control": "no-store",
        },
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
