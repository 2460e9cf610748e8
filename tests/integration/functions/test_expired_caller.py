"""API Gateway reuses a cached policy for `ReauthorizeEvery` seconds, for every route of its
authorizer, so a token can reach a handler after it expired: every handler refuses it (401),
before it touches any AWS service."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared.routes import ROUTES, Scheme
from tests.integration.functions.conftest import Invoke
from tests.integration.functions.support import api_event, body_of, header_of

PATH_PARAMETERS = {
    "workflowId": "demo",
    "runId": "r1",
    "keyId": "abcdefghijklmnop",
    "clientId": "reports",
}
#: A body each start or create endpoint accepts, so that only the caller can be refused.
BODIES = {
    "trigger_workflow": {"workflowId": "demo", "input": {}},
    "start_run": {"input": {}},
    "create_api_key": {"principal": "batch", "scopes": ["workflow:read"]},
    "create_revocation": {"sub": "someone"},
}
TOKEN_ROUTES = [
    route for route in ROUTES if route.guarded and Scheme.API_KEY not in route.allowed_schemes
]


def call(invoke: Invoke, function: str, expires_at: float, scheme: str = "jwt") -> dict[str, Any]:
    route = next(route for route in ROUTES if route.function == function)
    params = {name: PATH_PARAMETERS[name] for name in route.params}
    body = BODIES.get(function)
    event = api_event(
        route.method,
        route.path,
        params or None,
        scheme=scheme,
        body=json.dumps(body) if body is not None else None,
        context={"expires_at": str(int(expires_at))},
    )
    return invoke(function, event)


@pytest.mark.parametrize("function", sorted(route.function for route in TOKEN_ROUTES))
def test_every_handler_refuses_an_expired_token(invoke: Invoke, function: str) -> None:
    response = call(invoke, function, expires_at=time.time() - 120)

    assert response["statusCode"] == 401, body_of(response)
    assert body_of(response) == {"error": "unauthorized", "message": "Unauthorized."}
    assert header_of(response, "WWW-Authenticate").startswith("Bearer ")


@pytest.mark.parametrize(
    ("function", "scheme"), [("get_automate", "jwt"), ("get_secure_automate", "oauth")]
)
def test_a_token_within_the_skew_still_passes(invoke: Invoke, function: str, scheme: str) -> None:
    """The authorizer allows `CLOCK_SKEW_SECONDS` (60) on `exp`; so do the handlers."""
    response = call(invoke, function, expires_at=time.time() - 30, scheme=scheme)

    assert response["statusCode"] == 200
