"""POST /api/admin/api-keys (workflow:admin): issue an API key, shown in this answer only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import api_keys
from shared.http_api import ApiRequest, Endpoint, audit
from shared.observability import logger, metrics

endpoint = Endpoint("create_api_key")


@endpoint.route
def create(request: ApiRequest) -> Response[dict[str, Any]]:
    """201 with the key (shown this once), its id and Location."""
    caller = request.authorize()
    admin = api_keys.default_admin()
    issued = admin.issue(
        api_keys.parse_issue_request(request.json_body(), admin.settings.rotate_after_days)
    )
    audit(
        "api_key.issued",
        caller,
        request.request_id,
        api_key_id=issued.key_id,
        api_key_principal=issued.principal,
        api_key_scopes=list(issued.scopes),
        rotate_after_days=issued.rotate_after_days,
    )
    metrics.add_metric(name="ApiKeyIssued", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body={
            "keyId": issued.key_id,
            "apiKey": issued.api_key,
            "principal": issued.principal,
            "scopes": list(issued.scopes),
            "rotateAfterDays": issued.rotate_after_days,
        },
        # The key is in this body and nowhere else: no cache may keep a copy.
        headers={
            "Location": f"{request.base_path}{endpoint.definition.path}/{issued.key_id}",
            "Cache-Control": "no-store",
        },
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return endpoint.resolve(event, context)
