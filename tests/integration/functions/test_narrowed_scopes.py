"""A policy with many narrowed scopes is compacted to `*` for the workflow id, so API Gateway
lets such a caller reach every workflow's routes: each handler must refuse the workflows the
caller's scopes do not name (403), before it touches any AWS service."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.routes import ROUTES, WORKFLOW_ID_PARAM
from tests.integration.functions.conftest import Invoke
from tests.integration.functions.support import api_event, body_of

WORKFLOW_ROUTES = [route for route in ROUTES if WORKFLOW_ID_PARAM in route.params]
#: Every narrowed scope there is, on workflow `mine`: never on `theirs`.
NARROWED = "workflow:read:mine workflow:trigger:mine"


def call(invoke: Invoke, function: str, workflow_id: str) -> dict[str, Any]:
    route = next(route for route in ROUTES if route.function == function)
    params = {"workflowId": workflow_id, "runId": "r1"}
    body = json.dumps({"input": {}}) if route.method == "POST" else None
    event = api_event(
        route.method,
        route.path,
        {name: params[name] for name in route.params},
        scopes=NARROWED,
        body=body,
    )
    return invoke(function, event)


def test_every_workflow_route_is_covered() -> None:
    assert {route.function for route in WORKFLOW_ROUTES} == {
        "start_run", "list_runs", "get_run", "cancel_run"
    }  # fmt: skip


@pytest.mark.parametrize("function", sorted(route.function for route in WORKFLOW_ROUTES))
def test_a_narrowed_caller_is_refused_on_another_workflow(invoke: Invoke, function: str) -> None:
    response = call(invoke, function, "theirs")

    assert response["statusCode"] == 403
    assert body_of(response)["error"] == "forbidden"


def test_a_narrowed_body_workflow_on_trigger_is_refused(invoke: Invoke) -> None:
    event = api_event(
        "POST",
        "/api/trigger",
        scopes=NARROWED,
        body=json.dumps({"workflowId": "theirs", "input": {}}),
    )
    assert invoke("trigger_workflow", event)["statusCode"] == 403
