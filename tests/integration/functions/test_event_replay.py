"""Every sample event in `events/` gives the outcome documented beside it.

`events/<function>/<case>.json` is what `sam local invoke <Function> -e` takes; the sibling
`<case>.expected.json` says what the function answers: `status`, a subset of the JSON `body`,
`lengths` of body lists, body fields that are `non_null`, `headers_present`, and the Step
Functions state to `seed` first (runs, and whether moto executes them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import (
    assert_every_function_has_documented_events,
    contains,
    event_cases,
    expected_outcome,
)
from tests.integration.functions.conftest import Invoke
from tests.integration.functions.support import body_of, header_of

#: The handler functions this replay covers (the authorizer's events have their own test).
FUNCTIONS = (
    "get_automate",
    "get_secure_automate",
    "get_internal",
    "trigger_workflow",
    "start_run",
    "list_runs",
    "get_run",
    "cancel_run",
)
CASES = event_cases(FUNCTIONS)


def test_every_function_has_events_with_documented_outcomes() -> None:
    assert_every_function_has_documented_events(CASES, FUNCTIONS)


@pytest.mark.parametrize("event_path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_event_gives_documented_outcome(
    event_path: Path, request: pytest.FixtureRequest, invoke: Invoke
) -> None:
    expected = expected_outcome(event_path)
    seed = expected.get("seed", {})
    engine = request.getfixturevalue("engine" if seed.get("executes", True) else "idle_engine")
    for run in seed.get("runs", []):
        arn = engine.seed_run(run["workflowId"], run["runId"], run.get("input"))
        if run.get("stop"):
            engine.client.stop_execution(executionArn=arn)
        elif seed.get("executes", True):
            engine.wait_finished(arn)

    event = json.loads(event_path.read_text())
    response = invoke(event_path.parent.name, event)

    assert response["statusCode"] == expected["status"], response["body"]
    body = body_of(response)
    assert contains(body, expected.get("body", {})), body
    for field, length in expected.get("lengths", {}).items():
        assert len(body[field]) == length, field
    for field in expected.get("non_null", []):
        assert body[field] is not None, field
    for name in expected.get("headers_present", []):
        assert header_of(response, name), f"{name} missing"
    assert "Traceback" not in response["body"]
