"""Runs as AWS Step Functions executions: the only code that calls Step Functions.

Every run's execution input is an envelope, so the state machine (and anyone reading the run
later) knows who started it and from which API request::

    {"input": {...caller's input...},
     "audit": {"startedBy": {"principal": ..., "scheme": ...}, "requestId": ...,
               "requestHash": ...}}
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared import aws
from shared.api_errors import DependencyBusyError, DependencyFailedError
from shared.caller import Caller
from shared.runs.errors import (
    IdempotencyConflictError,
    InputTooLargeError,
    InvalidNextTokenError,
    RunNotActiveError,
    RunNotFoundError,
)
from shared.runs.model import (
    MAX_EXECUTION_INPUT_BYTES,
    RunDetail,
    RunPage,
    RunSummary,
    StartedRun,
    StartRequest,
    WorkflowSettings,
    check_run_id,
    decode_next_token,
    encode_next_token,
    execution_arn,
    run_name,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import DescribeExecutionOutputTypeDef


class WorkflowService:
    """Starts, reads, lists and stops runs. The only code that calls Step Functions."""

    def __init__(self, settings: WorkflowSettings, client: SFNClient) -> None:
        self.settings = settings
        self._client = client

    def start_run(self, request: StartRequest, caller: Caller, request_id: str) -> StartedRun:
        state_machine = self.settings.state_machine(request.workflow_id)
        request_hash = request.request_hash()
        started_by: dict[str, Any] = {"principal": caller.principal, "scheme": caller.scheme}
        if caller.client_id:
            started_by["clientId"] = caller.client_id
        if caller.key_id:
            started_by["keyId"] = caller.key_id
        document = json.dumps(
            {
                "input": request.input,
                "audit": {
                    "startedBy": started_by,
                    "requestId": request_id,
                    "requestHash": request_hash,
                },
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        if len(document.encode("utf-8")) > MAX_EXECUTION_INPUT_BYTES:
            raise InputTooLargeError(f"execution input is {len(document.encode())} bytes")
        name = (
            run_name(caller, request.idempotency_key)
            if request.idempotency_key is not None
            else uuid.uuid4().hex
        )
        try:
            with STEP_FUNCTIONS.translated(ExecutionAlreadyExists=_AlreadyExistsError):
                started = self._client.start_execution(
                    stateMachineArn=state_machine, name=name, input=document
                )
        except _AlreadyExistsError as exc:
            if request.idempotency_key is None:
                raise DependencyFailedError(str(exc)) from exc.__cause__
            # A retry of an earlier request (its input differs at least by the request id,
            # and Step Functions only dedupes identical input of running executions): decide
            # by the fingerprint we stored in the first run's input.
            existing = self.get_run(request.workflow_id, name)
            if existing.request_hash != request_hash:
                raise IdempotencyConflictError(f"Idempotency-Key reused for run {name}") from None
            return StartedRun(
                request.workflow_id,
                name,
                existing.status,
                existing.started_at or datetime.now(UTC),
                replayed=True,
            )
        return StartedRun(request.workflow_id, name, "RUNNING", started["startDate"])

    def get_run(self, workflow_id: str, run_id: str) -> RunDetail:
        state_machine = self.settings.state_machine(workflow_id)
        check_run_id(run_id)
        with STEP_FUNCTIONS.translated(ExecutionDoesNotExist=RunNotFoundError):
            found = self._client.describe_execution(
                executionArn=execution_arn(state_machine, run_id)
            )
        return _detail(workflow_id, run_id, found)

    def list_runs(self, workflow_id: str, limit: int, next_token: str | None) -> RunPage:
        """One page of runs, newest first (Step Functions' own order for ListExecutions)."""
        state_machine = self.settings.state_machine(workflow_id)
        engine_token = decode_next_token(workflow_id, next_token)
        kwargs: dict[str, Any] = {"stateMachineArn": state_machine, "maxResults": limit}
        if engine_token is not None:
            kwargs["nextToken"] = engine_token
        with STEP_FUNCTIONS.translated(InvalidToken=InvalidNextTokenError):
            page = self._client.list_executions(**kwargs)
        runs = tuple(
            RunSummary(
                run_id=item["name"],
                status=item["status"],
                started_at=item.get("startDate"),
                stopped_at=item.get("stopDate"),
            )
            for item in page.get("executions", [])
        )
        following = page.get("nextToken")
        return RunPage(
            workflow_id, runs, encode_next_token(workflow_id, following) if following else None
        )

    def cancel_run(
        self, workflow_id: str, run_id: str, caller: Caller, request_id: str
    ) -> RunDetail:
        state_machine = self.settings.state_machine(workflow_id)
        run = self.get_run(workflow_id, run_id)
        if not run.active:
            raise RunNotActiveError(f"run {run_id} is {run.status}")
        with STEP_FUNCTIONS.translated(ExecutionDoesNotExist=RunNotFoundError):
            self._client.stop_execution(
                executionArn=execution_arn(state_machine, run_id),
                error="Cancelled",
                cause=f"Cancelled through the API by {caller.principal} (request {request_id})",
            )
        # StopExecution succeeds silently on a run that finished in the meantime: report what
        # really happened rather than assume the stop took.
        stopped = self.get_run(workflow_id, run_id)
        if stopped.status != "ABORTED":
            raise RunNotActiveError(f"run {run_id} finished as {stopped.status} before the stop")
        return stopped


def _detail(workflow_id: str, run_id: str, found: DescribeExecutionOutputTypeDef) -> RunDetail:
    document = _loads_or_raw(found.get("input"))
    started_by: Mapping[str, Any] | None = None
    request_id: str | None = None
    request_hash: str | None = None
    run_input: Any = document
    # Runs started through this API carry the envelope; others (console, schedules) do not.
    if isinstance(document, dict) and isinstance(document.get("audit"), dict):
        audit = document["audit"]
        run_input = document.get("input")
        started_by = audit.get("startedBy") if isinstance(audit.get("startedBy"), dict) else None
        request_id = audit.get("requestId") if isinstance(audit.get("requestId"), str) else None
        request_hash = (
            audit.get("requestHash") if isinstance(audit.get("requestHash"), str) else None
        )
    return RunDetail(
        workflow_id=workflow_id,
        run_id=run_id,
        status=found["status"],
        started_at=found.get("startDate"),
        stopped_at=found.get("stopDate"),
        input=run_input,
        output=_loads_or_raw(found.get("output")),
        started_by=started_by,
        request_id=request_id,
        error=found.get("error"),
        cause=found.get("cause"),
        request_hash=request_hash,
    )


def _loads_or_raw(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


class _AlreadyExistsError(Exception):
    """`ExecutionAlreadyExists`: `start_run` decides what it means (a retry, or a conflict)."""


STEP_FUNCTIONS = aws.Boundary(
    "stepfunctions", "Step Functions", busy=DependencyBusyError, failed=DependencyFailedError
)


def new_client() -> SFNClient:
    """The Step Functions client (tests replace this function)."""
    client: SFNClient = STEP_FUNCTIONS.client()
    return client


@functools.cache
def default_service() -> WorkflowService:
    """The container's service, built on first use (tests call `default_service.cache_clear()`)."""
    return WorkflowService(WorkflowSettings.from_env(), new_client())
