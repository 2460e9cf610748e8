"""Calling the admin handlers the way API Gateway does, with the authorizer's context."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from shared.secret_formats import AWSCURRENT, AWSPENDING
from tests.helpers import load_event
from tests.integration.rotation.support import Aws, FakeLambdaContext

ADMIN_CONTEXT = {
    "principalId": "ops-admin",
    "principal": "ops-admin",
    "scheme": "jwt",
    "scopes": "workflow:admin",
    "expires_at": "4102444800",  # 2100: a token that stays valid for the whole test
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def invoke(function: str, event: dict[str, Any]) -> Answer:
    module = __import__(f"functions.{function}.app", fromlist=["lambda_handler"])
    response = module.lambda_handler(event, FakeLambdaContext(function_name=function))
    body = json.loads(response["body"]) if response.get("body") else None
    # Powertools answers in the shape of the request: multiValueHeaders when it had them.
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    return Answer(response["statusCode"], headers, body)


def create_event(body: Any = None, *, raw: str | None = None, **context: Any) -> dict[str, Any]:
    event = _with_context(load_event("create_api_key/issue-key.json"), context)
    if raw is not None or body is not None:
        event["body"] = raw if raw is not None else json.dumps(body)
    return event


def rotate_event(key_id: str, **context: Any) -> dict[str, Any]:
    event = _with_context(load_event("rotate_api_key/rotate-key.json"), context)
    return _for_key(event, key_id, "/rotate")


def revoke_event(key_id: str, **context: Any) -> dict[str, Any]:
    event = _with_context(load_event("revoke_api_key/revoke-key.json"), context)
    return _for_key(event, key_id, "")


def issue(body: Any = None) -> Answer:
    """A key through the create handler, as the tests' starting point."""
    answer = invoke("create_api_key", create_event(body))
    assert answer.status == 201, answer
    return answer


def settle_configuration_test(aws: Aws, secret_id: str) -> None:
    """`RotateSecret(RotateImmediately=False)` makes Secrets Manager run testSecret on an
    AWSPENDING copy of the secret "and then remove it" (AWS API reference); moto leaves that
    label behind. Do what AWS does, so the next rotation can start."""
    stages = aws.sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
    for version_id, labels in stages.items():
        if AWSPENDING in labels and AWSCURRENT not in labels:
            aws.sm.update_secret_version_stage(
                SecretId=secret_id, VersionStage=AWSPENDING, RemoveFromVersionId=version_id
            )


def _with_context(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    if context.get("no_authorizer"):
        event["requestContext"].pop("authorizer")
        return event
    authorizer = dict(ADMIN_CONTEXT)
    authorizer.update({k: v for k, v in context.items() if k != "no_authorizer"})
    event["requestContext"]["authorizer"] = authorizer
    return event


def _for_key(event: dict[str, Any], key_id: str, suffix: str) -> dict[str, Any]:
    path = f"/api/admin/api-keys/{key_id}{suffix}"
    event["path"] = path
    event["requestContext"]["path"] = f"/v1{path}"
    event["pathParameters"] = {"keyId": key_id}
    return event
