"""API Gateway's authorizer cache, reproduced: one decision per credential reused on every
route of the same authorizer, so the policy must be right for all of them."""

from __future__ import annotations

import time

from shared.scopes import READ, TRIGGER
from tests.e2e.conftest import LocalRun


def test_policy_cached_on_one_route_answers_for_others_without_a_new_invocation(
    local_run: LocalRun,
) -> None:
    token = local_run.service_token(READ)
    before = local_run.invocations()
    assert local_run.call("GET", "/api/automate", token).status_code == 200
    assert local_run.invocations() == before + 1
    # Other routes, same credential: answered from the cached policy.
    assert local_run.call("GET", "/api/workflows/demo/runs", token).status_code == 200
    trigger = local_run.call("POST", "/api/workflows/demo/runs", token, body={"input": {}})
    assert trigger.status_code == 403  # no false 200: read does not trigger
    assert local_run.call("POST", "/api/admin/api-keys", token, body={}).status_code == 403
    assert local_run.invocations() == before + 1


def test_narrowed_scope_cached_policy_keeps_other_workflows_out(local_run: LocalRun) -> None:
    token = local_run.service_token(f"{READ}:demo", f"{TRIGGER}:demo")
    before = local_run.invocations()
    started = local_run.call("POST", "/api/workflows/demo/runs", token, body={"input": {}})
    assert started.status_code == 202
    assert local_run.call("GET", "/api/workflows/demo/runs", token).status_code == 200
    assert local_run.call("GET", "/api/workflows/other/runs", token).status_code == 403
    assert local_run.call("POST", "/api/workflows/other/runs", token, body={}).status_code == 403
    assert local_run.invocations() == before + 1


def test_oauth_policy_cached_on_secure_automate_refuses_automate(local_run: LocalRun) -> None:
    token = local_run.oauth_token()
    before = local_run.invocations()
    assert local_run.call("GET", "/api/secure-automate", token).status_code == 200
    assert local_run.call("GET", "/api/automate", token).status_code == 403  # jwt-only route
    assert local_run.call("GET", "/api/workflows/demo/runs", token).status_code == 200
    assert local_run.invocations() == before + 1


def test_caches_are_per_authorizer(local_run: LocalRun) -> None:
    api_key = local_run.state["api_key"]
    local_run.call("GET", "/api/internal", api_key=api_key)  # warm the ApiKeyAuthorizer entry
    before = local_run.stats()["authorizer_invocations_by_authorizer"]
    assert local_run.call("GET", "/api/internal", api_key=api_key).status_code == 200
    # The same value sent as a bearer credential is another authorizer's cache entry.
    assert local_run.call("GET", "/api/automate", bearer=api_key).status_code == 401
    after = local_run.stats()["authorizer_invocations_by_authorizer"]
    assert after["ApiKeyAuthorizer"] == before["ApiKeyAuthorizer"]
    assert after["BearerAuthorizer"] == before["BearerAuthorizer"] + 1


def test_a_token_that_expires_under_a_cached_policy_is_refused_by_the_handler(
    local_run: LocalRun,
) -> None:
    """API Gateway reuses the cached policy for `ReauthorizeEvery` (300 s): without the
    handlers' own check, a 5-second token still got 200 seventy seconds later."""
    token = local_run.service_token(READ, lifetime=2)
    before = local_run.invocations()
    assert local_run.call("GET", "/api/automate", token).status_code == 200
    time.sleep(3)

    expired = local_run.call("GET", "/api/automate", token)
    listed = local_run.call("GET", "/api/workflows/demo/runs", token)

    assert local_run.invocations() == before + 1  # the cached policy still allowed both
    assert (expired.status_code, listed.status_code) == (401, 401)
    assert expired.json()["error"] == "unauthorized"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer ")
