"""Reading, listing and cancelling runs against Step Functions in moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import LogLines
from tests.integration.functions.conftest import Invoke
from tests.integration.functions.support import (
    CANCEL,
    RUN,
    RUNS,
    Engine,
    api_event,
    body_of,
)


def get_run(invoke: Invoke, run_id: str, workflow_id: str = "demo", **kw: Any) -> dict[str, Any]:
    kw.setdefault("scopes", "workflow:read")
    params = {"workflowId": workflow_id, "runId": run_id}
    return invoke("get_run", api_event("GET", RUN, params, **kw))


def list_runs(invoke: Invoke, workflow_id: str = "demo", **kw: Any) -> dict[str, Any]:
    kw.setdefault("scopes", "workflow:read")
    return invoke("list_runs", api_event("GET", RUNS, {"workflowId": workflow_id}, **kw))


def cancel(invoke: Invoke, run_id: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("scopes", "workflow:admin")
    params = {"workflowId": "demo", "runId": run_id}
    return invoke("cancel_run", api_event("POST", CANCEL, params, **kw))


class TestGetRun:
    def test_finished_run_has_status_times_input_output_and_starter(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        started = invoke(
            "start_run",
            api_event(
                "POST",
                RUNS,
                {"workflowId": "demo"},
                body=json.dumps({"input": {"orderId": "ord-9"}}),
                principal="svc-orders",
                scopes="workflow:trigger",
            ),
        )
        run_id = body_of(started)["runId"]
        engine.wait_finished(f"arn:aws:states:us-east-1:123456789012:execution:demo:{run_id}")

        response = get_run(invoke, run_id)

        assert response["statusCode"] == 200
        body = body_of(response)
        assert body["status"] == "SUCCEEDED"
        assert body["input"] == {"orderId": "ord-9"}
        # The sample state machine echoes what it was given, with who started it.
        assert body["output"] == {
            "accepted": {"orderId": "ord-9"},
            "startedBy": "svc-orders",
            "requestId": "req-0001",
        }
        assert body["startedBy"] == {"principal": "svc-orders", "scheme": "jwt"}
        assert body["startedAt"].endswith("Z")
        assert body["stoppedAt"].endswith("Z")
        assert "requestHash" not in json.dumps(body)

    def test_run_started_outside_the_api_shows_its_raw_input(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        arn = engine.client.start_execution(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:demo",
            name="console-run",
            input=json.dumps({"input": {"k": 1}, "audit": {"startedBy": {"principal": "p"}}}),
        )["executionArn"]
        engine.wait_finished(arn)

        body = body_of(get_run(invoke, "console-run"))

        assert body["startedBy"] == {"principal": "p"}
        assert body["requestId"] is None

    def test_unknown_run_is_404(self, engine: Engine, invoke: Invoke) -> None:
        response = get_run(invoke, "0123456789abcdef")

        assert response["statusCode"] == 404
        assert body_of(response)["error"] == "run_not_found"

    def test_unknown_workflow_is_404(self, engine: Engine, invoke: Invoke) -> None:
        response = get_run(invoke, "abc", workflow_id="ghost")

        assert response["statusCode"] == 404
        assert body_of(response)["error"] == "workflow_not_found"

    @pytest.mark.parametrize("run_id", ["a.b", "x" * 81, "a:b", "..", "%2F"])
    def test_malformed_run_id_is_400(self, engine: Engine, invoke: Invoke, run_id: str) -> None:
        response = get_run(invoke, run_id)

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "invalid_run_id"

    def test_read_scope_narrowed_to_another_workflow_is_403(
        self, engine: Engine, invoke: Invoke
    ) -> None:
        response = get_run(invoke, "abc", scopes="workflow:read:nightly-report")

        assert response["statusCode"] == 403


class TestListRuns:
    def seed(self, engine: Engine, count: int) -> list[str]:
        names = [f"run-{i:02d}" for i in range(count)]
        for name in names:
            engine.seed_run("demo", name)
        return names

    def test_newest_first(self, engine: Engine, invoke: Invoke) -> None:
        names = self.seed(engine, 3)

        body = body_of(list_runs(invoke))

        assert [run["runId"] for run in body["runs"]] == list(reversed(names))
        assert body["nextToken"] is None

    def test_pages_cover_every_run_once(self, engine: Engine, invoke: Invoke) -> None:
        names = self.seed(engine, 5)
        seen: list[str] = []
        token: str | None = None
        for _ in range(5):
            query = {"limit": "2"} | ({"nextToken": token} if token else {})
            body = body_of(list_runs(invoke, query=query))
            assert len(body["runs"]) <= 2
            seen += [run["runId"] for run in body["runs"]]
            token = body["nextToken"]
            if token is None:
                break

        assert seen == list(reversed(names))

    def test_next_token_of_another_workflow_is_400(self, engine: Engine, invoke: Invoke) -> None:
        self.seed(engine, 3)
        token = body_of(list_runs(invoke, query={"limit": "1"}))["nextToken"]

        response = list_runs(invoke, workflow_id="nightly-report", query={"nextToken": token})

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "invalid_next_token"

    @pytest.mark.parametrize("token", ["!!!", "e30", "x" * 5000, "eyJ3IjoiZGVtbyIsInQiOiJ6In0"])
    def test_forged_next_token_is_400(self, engine: Engine, invoke: Invoke, token: str) -> None:
        response = list_runs(invoke, query={"nextToken": token})

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "invalid_next_token"

    # Unicode digits: `'²'.isdigit()` is true and `int('²')` raises.
    @pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", " 5", "", "²", "٣", "1_0"])
    def test_limit_out_of_range_is_400(self, engine: Engine, invoke: Invoke, limit: str) -> None:
        response = list_runs(invoke, query={"limit": limit})

        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "invalid_limit"

    def test_trigger_scope_alone_cannot_list(self, engine: Engine, invoke: Invoke) -> None:
        assert list_runs(invoke, scopes="workflow:trigger")["statusCode"] == 403


class TestCancel:
    def test_running_run_is_stopped_and_audited(
        self, idle_engine: Engine, invoke: Invoke, log_lines: LogLines
    ) -> None:
        idle_engine.seed_run("demo", "long-run")

        response = cancel(invoke, "long-run", principal="ops-admin")

        assert response["statusCode"] == 200
        assert body_of(response)["status"] == "ABORTED"
        described = idle_engine.client.describe_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:demo:long-run"
        )
        assert described["status"] == "ABORTED"
        audits = [line for line in log_lines() if line["message"] == "audit"]
        assert [(a["action"], a["principal"], a["run_id"]) for a in audits] == [
            ("run.cancelled", "ops-admin", "long-run")
        ]

    def test_finished_run_is_409(self, idle_engine: Engine, invoke: Invoke) -> None:
        arn = idle_engine.seed_run("demo", "done-run")
        idle_engine.client.stop_execution(executionArn=arn)

        response = cancel(invoke, "done-run")

        assert response["statusCode"] == 409
        assert body_of(response)["error"] == "run_not_running"

    def test_succeeded_run_is_409(self, engine: Engine, invoke: Invoke) -> None:
        engine.wait_finished(engine.seed_run("demo", "ok-run"))

        assert cancel(invoke, "ok-run")["statusCode"] == 409

    def test_unknown_run_is_404(self, idle_engine: Engine, invoke: Invoke) -> None:
        assert cancel(invoke, "missing")["statusCode"] == 404

    def test_trigger_and_read_scopes_cannot_cancel(
        self, idle_engine: Engine, invoke: Invoke
    ) -> None:
        idle_engine.seed_run("demo", "long-run")

        response = cancel(invoke, "long-run", scopes="workflow:trigger workflow:read")

        assert response["statusCode"] == 403
        described = idle_engine.client.describe_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:demo:long-run"
        )
        assert described["status"] == "RUNNING"
