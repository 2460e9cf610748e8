from __future__ import annotations

import pytest

from shared import ROUTES, AuthorizerName, Scheme, find_route, routes_of


def test_route_table_has_every_spec_route_once() -> None:
    keys = [(r.method, r.path) for r in ROUTES]
    assert len(keys) == len(set(keys)) == 19
    assert {r.function for r in ROUTES} == {
        "get_automate", "get_secure_automate", "trigger_workflow", "get_internal",
        "start_run", "list_runs", "get_run", "cancel_run",
        "create_api_key", "rotate_api_key", "revoke_api_key",
        "create_revocation", "list_revocations",
        "issue_token", "get_oauth_metadata",
        "create_client", "list_clients", "rotate_client", "revoke_client",
    }  # fmt: skip


def test_routes_without_an_authorizer_are_marked_and_never_found_for_an_authorizer() -> None:
    """The token service's routes are in the table, marked `NONE`; `find_route` (what the
    authorizer matches a methodArn with) never returns them, `find_any_route` does."""
    from shared.routes import find_any_route  # noqa: PLC0415

    unguarded = [r for r in ROUTES if not r.guarded]
    assert {(r.method, r.path) for r in unguarded} == {
        ("POST", "/oauth/token"),
        ("GET", "/.well-known/oauth-authorization-server"),
    }
    for route in unguarded:
        assert route.authorizer is AuthorizerName.NONE
        assert route.allowed_schemes == frozenset()
        assert find_route(route.method, route.path) is None
        assert find_any_route(route.method, route.path) == (route, {})
        assert route not in routes_of(AuthorizerName.BEARER) + routes_of(AuthorizerName.API_KEY)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/api/automate", "get_automate", {}),
        ("GET", "/api/workflows/wf-1/runs", "list_runs", {"workflowId": "wf-1"}),
        ("GET", "/api/workflows/wf-1/runs/r1", "get_run", {"workflowId": "wf-1", "runId": "r1"}),
        ("POST", "/api/workflows/a/runs/b/cancel", "cancel_run", {"workflowId": "a", "runId": "b"}),
        ("DELETE", "/api/admin/api-keys/k", "revoke_api_key", {"keyId": "k"}),
    ],
)
def test_find_route_matches_concrete_paths(
    method: str, path: str, function: str, params: dict[str, str]
) -> None:
    found = find_route(method, path)
    assert found is not None
    assert found[0].function == function
    assert found[1] == params


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/automate"),
        ("GET", "/api/automate/"),
        ("GET", "/api/workflows//runs"),
        ("GET", "/api/workflows/a/b/runs"),
        ("get", "/api/automate"),
        ("GET", "api/automate"),
    ],
)
def test_find_route_refuses_everything_else(method: str, path: str) -> None:
    assert find_route(method, path) is None


def test_arn_paths() -> None:
    run = next(r for r in ROUTES if r.function == "get_run")
    assert run.arn_path == "api/workflows/*/runs/*"
    assert run.arn_path_for("wf-1") == "api/workflows/wf-1/runs/*"


def test_api_key_authorizer_serves_only_api_key_scheme() -> None:
    (internal,) = routes_of(AuthorizerName.API_KEY)
    assert internal.path == "/api/internal"
    assert internal.schemes == frozenset({Scheme.API_KEY})
    assert all(r.schemes != frozenset({Scheme.API_KEY}) for r in routes_of(AuthorizerName.BEARER))
