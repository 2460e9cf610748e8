"""A workflow run over HTTP: started, executed by Step Functions (moto), read back."""

from __future__ import annotations

import time
import uuid

from shared.scopes import READ, TRIGGER
from tests.e2e.conftest import LocalRun


def wait_for_status(local_run: LocalRun, token: str, location: str) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while True:
        response = local_run.call("GET", location, token)
        assert response.status_code == 200, response.text
        run: dict[str, object] = response.json()
        if run["status"] != "RUNNING" or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_run_reaches_succeeded_and_an_idempotent_retry_returns_it(local_run: LocalRun) -> None:
    token = local_run.service_token(READ, TRIGGER)
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}
    body = {"input": {"order": 42}}
    first = local_run.call("POST", "/api/workflows/demo/runs", token, body=body, headers=key)
    assert first.status_code == 202, first.text
    run_id = first.json()["runId"]
    location = first.headers["Location"]
    assert location.endswith(f"/api/workflows/demo/runs/{run_id}")
    path = location[location.index("/api/") :]
    run = wait_for_status(local_run, token, path)
    assert run["status"] == "SUCCEEDED"
    assert run["input"] == {"order": 42}
    retry = local_run.call("POST", "/api/workflows/demo/runs", token, body=body, headers=key)
    assert retry.status_code in (200, 202)
    assert retry.json()["runId"] == run_id
    listed = local_run.call("GET", "/api/workflows/demo/runs", token).json()
    assert run_id in {item["runId"] for item in listed["runs"]}


def test_trigger_starts_a_run_that_succeeds(local_run: LocalRun) -> None:
    token = local_run.service_token(READ, TRIGGER)
    response = local_run.call(
        "POST", "/api/trigger", token, body={"workflowId": "demo", "input": {"x": 1}}
    )
    assert response.status_code == 202, response.text
    run_id = response.json()["runId"]
    run = wait_for_status(local_run, token, f"/api/workflows/demo/runs/{run_id}")
    assert run["status"] == "SUCCEEDED"
