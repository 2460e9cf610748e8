"""Every route of the route table, with every kind of credential, over real HTTP.

The expected answer is computed from `shared.routes.ROUTES` and the scope rules, not written
by hand: 401 when the route's identity source is missing, 403 when the caller's scheme or
scopes do not cover the route, otherwise the function's own success status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shared.routes import ROUTES, AuthorizerName, Route, Scheme
from shared.scopes import ADMIN, READ, TRIGGER, Grants
from tests.e2e.conftest import LocalRun

UNKNOWN_KEY_ID = "zzzzzzzzzzzzzzzz"


@dataclass(frozen=True)
class Credential:
    name: str
    scheme: Scheme | None
    scopes: tuple[str, ...] = ()


CREDENTIALS = (
    Credential("none", None),
    Credential("jwt-no-scope", Scheme.JWT),
    Credential("jwt-read", Scheme.JWT, (READ,)),
    Credential("jwt-trigger", Scheme.JWT, (TRIGGER,)),
    Credential("jwt-admin", Scheme.JWT, (ADMIN,)),
    Credential("jwt-read-demo", Scheme.JWT, (f"{READ}:demo",)),
    Credential("jwt-trigger-demo", Scheme.JWT, (f"{TRIGGER}:demo",)),
    Credential("jwt-read-other", Scheme.JWT, (f"{READ}:other", f"{TRIGGER}:other")),
    Credential("oauth", Scheme.OAUTH, (READ, TRIGGER)),
    Credential("api-key", Scheme.API_KEY, (READ,)),
)

#: How each route is called, and what its function answers when the call gets through.
CALLS: dict[tuple[str, str], tuple[str, Any, set[int]]] = {
    ("GET", "/api/automate"): ("/api/automate", None, {200}),
    ("GET", "/api/secure-automate"): ("/api/secure-automate", None, {200}),
    ("POST", "/api/trigger"): ("/api/trigger", {"workflowId": "demo", "input": {}}, {202}),
    ("GET", "/api/internal"): ("/api/internal", None, {200}),
    ("POST", "/api/workflows/{workflowId}/runs"): (
        "/api/workflows/demo/runs", {"input": {"n": 1}}, {202},
    ),
    ("GET", "/api/workflows/{workflowId}/runs"): ("/api/workflows/demo/runs", None, {200}),
    ("GET", "/api/workflows/{workflowId}/runs/{runId}"): (
        "/api/workflows/demo/runs/{runId}", None, {200},
    ),
    # The demo run has finished: cancelling it is a conflict, answered by the function.
    ("POST", "/api/workflows/{workflowId}/runs/{runId}/cancel"): (
        "/api/workflows/demo/runs/{runId}/cancel", None, {409},
    ),
    ("POST", "/api/admin/api-keys"): (
        "/api/admin/api-keys", {"principal": "e2e-admin", "scopes": [READ]}, {201},
    ),
    ("POST", "/api/admin/api-keys/{keyId}/rotate"): (
        f"/api/admin/api-keys/{UNKNOWN_KEY_ID}/rotate", None, {404},
    ),
    ("DELETE", "/api/admin/api-keys/{keyId}"): (
        f"/api/admin/api-keys/{UNKNOWN_KEY_ID}", None, {404},
    ),
    # Revoking a subject nobody uses keeps the other tests' tokens valid.
    ("POST", "/api/admin/revocations"): (
        "/api/admin/revocations", {"sub": "e2e-nobody", "scheme": "jwt"}, {201},
    ),
    ("GET", "/api/admin/revocations"): ("/api/admin/revocations", None, {200}),
    # No authorizer: every credential reaches the function. Without a form body or a client
    # credential the token endpoint refuses (RFC 6749 section 5.2); the metadata is public.
    ("POST", "/oauth/token"): ("/oauth/token", None, {400}),
    ("GET", "/.well-known/oauth-authorization-server"): (
        "/.well-known/oauth-authorization-server", None, {200},
    ),
    # Registered once; the next admin caller finds the id taken (409, from the function).
    ("POST", "/api/admin/clients"): (
        "/api/admin/clients", {"clientId": "e2e-route-client", "scopes": [READ]}, {201, 409},
    ),
    ("GET", "/api/admin/clients"): ("/api/admin/clients", None, {200}),
    ("POST", "/api/admin/clients/{clientId}/rotate"): (
        "/api/admin/clients/e2e-nobody/rotate", None, {404},
    ),
    ("DELETE", "/api/admin/clients/{clientId}"): ("/api/admin/clients/e2e-nobody", None, {404}),
}  # fmt: skip


FUNCTION_FORBIDS = 1403
"""Marker: the gateway lets the call through and the function itself answers 403."""


def expected(route: Route, credential: Credential) -> int | None:
    """401 or 403 when the gateway refuses, None when the call reaches the function."""
    if not route.guarded:
        return None  # no authorizer: API Gateway calls the function whatever is sent
    has_identity = credential.scheme is not None and (
        (credential.scheme is Scheme.API_KEY) == (route.authorizer is AuthorizerName.API_KEY)
    )
    if not has_identity:
        return 401  # the route's identity source is absent: the authorizer is not even called
    if credential.scheme not in route.allowed_schemes:
        return 403
    if route.scope is None:
        return None
    grants = Grants.from_scopes(credential.scopes)
    # POST /api/trigger is allowed for a narrowed trigger scope too (the function checks the
    # body's workflow id); routes under /api/workflows/{workflowId} are called for "demo".
    if route.path == "/api/trigger":
        if grants.allows(TRIGGER, "demo"):
            return None
        return FUNCTION_FORBIDS if grants.workflows(TRIGGER) else 403
    workflow = "demo" if "{workflowId}" in route.path else None
    return None if grants.allows(route.scope, workflow) else 403


@pytest.fixture(scope="module")
def demo_run(local_run: LocalRun) -> str:
    token = local_run.service_token(TRIGGER)
    response = local_run.call("POST", "/api/workflows/demo/runs", token, body={"input": {}})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["runId"]
    return run_id


@pytest.fixture(scope="module")
def credentials(local_run: LocalRun) -> dict[str, dict[str, str]]:
    """Headers for each credential (one token per scope set, from the real issuers)."""
    made: dict[str, dict[str, str]] = {}
    for credential in CREDENTIALS:
        if credential.scheme is Scheme.JWT:
            made[credential.name] = {"bearer": local_run.service_token(*credential.scopes)}
        elif credential.scheme is Scheme.OAUTH:
            if local_run.state["oauth"] is not None:
                made[credential.name] = {"bearer": local_run.oauth_token()}
        elif credential.scheme is Scheme.API_KEY:
            made[credential.name] = {"api_key": local_run.state["api_key"]}
        else:
            made[credential.name] = {}
    return made


def test_calls_cover_the_route_table() -> None:
    assert set(CALLS) == {(route.method, route.path) for route in ROUTES}


@pytest.mark.parametrize("credential", CREDENTIALS, ids=lambda c: c.name)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_answers_as_the_route_table_says(
    local_run: LocalRun,
    credentials: dict[str, dict[str, str]],
    demo_run: str,
    route: Route,
    credential: Credential,
) -> None:
    if credential.name not in credentials:
        pytest.skip("Node.js is not installed: no OAuth token")
    path, body, success = CALLS[(route.method, route.path)]
    response = local_run.call(
        route.method,
        path.replace("{runId}", demo_run),
        body=body,
        **credentials[credential.name],  # type: ignore[arg-type]
    )
    refusal = expected(route, credential)
    if refusal == FUNCTION_FORBIDS:
        assert response.status_code == 403, response.text
        assert "x-amzn-ErrorType" not in response.headers
    elif refusal is None:
        assert response.status_code in success, response.text
        # The function answered, not the gateway (Gateway Responses carry x-amzn-ErrorType).
        assert "x-amzn-ErrorType" not in response.headers
    else:
        assert response.status_code == refusal, response.text
        assert response.headers["x-amzn-ErrorType"] == (
            "UnauthorizedException" if refusal == 401 else "AccessDeniedException"
        )


def test_narrowed_trigger_scope_is_checked_by_the_function(local_run: LocalRun) -> None:
    token = local_run.service_token(f"{TRIGGER}:demo")
    ok = local_run.call("POST", "/api/trigger", token, body={"workflowId": "demo", "input": {}})
    assert ok.status_code == 202
    other = local_run.call("POST", "/api/trigger", token, body={"workflowId": "other", "input": {}})
    assert other.status_code == 403
    assert "x-amzn-ErrorType" not in other.headers  # the function's 403, not the policy's


def test_unknown_route_is_the_templates_missing_token_response(local_run: LocalRun) -> None:
    response = local_run.call("GET", "/api/nope", local_run.service_token(ADMIN))
    assert response.status_code == 404  # MISSING_AUTHENTICATION_TOKEN, 404 in template.yaml
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_gateway_responses_come_from_the_template(local_run: LocalRun) -> None:
    response = local_run.call("GET", "/api/automate")
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "Unauthorized."}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="workflow-api"'
    denied = local_run.call("GET", "/api/automate", local_run.oauth_token())
    assert denied.status_code == 403
    assert denied.json() == {"error": "forbidden", "message": "Forbidden."}
