"""NAIVE REFERENCE AUTHORIZER - for the benchmark only, never deployed, never a model.

This is the authorizer a user following the seed tutorial and the Powertools documentation
would write: eager module-level imports of Powertools `parameters` (which pulls in boto3) and
boto3, a module-level `PyJWKClient`, `jwt.decode` on every call, Powertools' authorizer event and
response classes, and a policy for the called route only. It is here to be measured against;
it deliberately keeps that shape (including its flaws: a per-route policy is wrong under API
Gateway's result cache, `PyJWKClient` waits 30 s and has no stale-if-error). Do not copy it.
"""

from __future__ import annotations

import os
from typing import Any, cast

import boto3  # noqa: F401 - the tutorial imports it eagerly; measured on purpose
import jwt
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from jwt import PyJWKClient

logger = Logger()
metrics = Metrics()

JWT_SECRET_ID = os.environ["JWT_SECRET_ID"]
OAUTH_ISSUER = os.environ["OAUTH_ISSUER"]
OAUTH_AUDIENCE = os.environ["OAUTH_AUDIENCE"]
API_KEY_SECRET_PREFIX = os.environ.get("API_KEY_SECRET_PREFIX", "workflow-api/api-keys/")

secrets_provider = parameters.SecretsProvider()
jwks_client = PyJWKClient(os.environ["OAUTH_JWKS_URI"])


def verify_bearer(token: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    if header.get("alg") == "HS256":
        # Cached 5 s by Powertools (keyed on the name only).
        secret = cast(dict[str, Any], secrets_provider.get(JWT_SECRET_ID, transform="json"))
        return jwt.decode(
            token,
            secret["key"],
            algorithms=["HS256"],
            issuer=os.environ.get("JWT_ISSUER"),
            audience=os.environ.get("JWT_AUDIENCE"),
        )
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256", "ES256", "EdDSA"],
        audience=OAUTH_AUDIENCE,
        issuer=OAUTH_ISSUER,
    )


def verify_api_key(key: str) -> dict[str, Any]:
    key_id = key.split("_")[1]
    name = API_KEY_SECRET_PREFIX + key_id
    record = cast(dict[str, Any], secrets_provider.get(name, transform="json"))
    if record["api_key"] != key or record.get("revoked"):
        raise Exception("Unauthorized")
    return {"sub": record["principal"], "scope": " ".join(record["scopes"])}


@metrics.log_metrics
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: Any) -> dict[str, Any]:
    api_key = event.headers.get("x-api-key")
    try:
        if api_key:
            claims = verify_api_key(api_key)
        else:
            token = event.headers.get("authorization", "").split(" ")[-1]
            claims = verify_bearer(token)
    except Exception:
        logger.info("authorizer decision", decision="unauthorized")
        metrics.add_metric(name="AuthorizerUnauthorized", unit=MetricUnit.Count, value=1)
        raise Exception("Unauthorized") from None

    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=claims["sub"],
        context={"scopes": claims.get("scope", "")},
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
    )
    policy.allow_route(http_method=event.http_method, resource=event.resource)
    logger.info("authorizer decision", decision="allow", principal=claims["sub"])
    metrics.add_metric(name="AuthorizerAllow", unit=MetricUnit.Count, value=1)
    return policy.asdict()
