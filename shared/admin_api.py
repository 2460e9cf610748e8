"""The API key admin endpoints' HTTP glue (`/api/admin/api-keys`), one function per endpoint:
authorize by the route table, read the input, call `shared.api_key_admin` once, audit what
changed (who, which key id; never the key) and shape the answer. Errors travel as domain
errors to `shared.http_api`, the one place that maps them to HTTP.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from shared.api_key_admin import default_admin, parse_issue_request, parse_key_id
from shared.http_api import audit, authorize, base_path, json_body, request_id
from shared.observability import metrics

KEYS_PATH = "/api/admin/api-keys"


def create_api_key(app: APIGatewayRestResolver) -> Response[dict[str, Any]]:
    """`POST /api/admin/api-keys`: 201 with the key (shown this once), its id and Location."""
    caller = authorize(app, "create_api_key")
    admin = default_admin()
    request = parse_issue_request(json_body(app), admin.settings.rotate_after_days)
    issued = admin.issue(request)
    audit(
        "api_key.issued",
        caller,
        request_id(app),
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
            "Location": f"{base_path(app)}{KEYS_PATH}/{issued.key_id}",
            "Cache-Control": "no-store",
        },
    )


def rotate_api_key(app: APIGatewayRestResolver, key_id: str) -> Response[dict[str, Any]]:
    """`POST /api/admin/api-keys/{keyId}/rotate`: 202; the rotation function does the work."""
    caller = authorize(app, "rotate_api_key")
    started = default_admin().rotate(parse_key_id(key_id))
    audit(
        "api_key.rotation_started",
        caller,
        request_id(app),
        api_key_id=started.key_id,
        version_id=started.version_id,
    )
    metrics.add_metric(name="ApiKeyRotationStarted", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"keyId": started.key_id, "versionId": started.version_id},
    )


def revoke_api_key(app: APIGatewayRestResolver, key_id: str) -> dict[str, Any]:
    """`DELETE /api/admin/api-keys/{keyId}`: 200 once the key is revoked and its secret is
    scheduled for deletion."""
    caller = authorize(app, "revoke_api_key")
    revoked = default_admin().revoke(parse_key_id(key_id))
    deletion = revoked.deletion_date.isoformat() if revoked.deletion_date else None
    audit(
        "api_key.revoked",
        caller,
        request_id(app),
        api_key_id=revoked.key_id,
        deletion_date=deletion,
    )
    metrics.add_metric(name="ApiKeyRevoked", unit=MetricUnit.Count, value=1)
    return {"keyId": revoked.key_id, "revoked": True, "deletionDate": deletion}
