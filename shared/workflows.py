"""Workflow runs as AWS Step Functions executions: configuration, domain rules and the one
boundary where botocore errors become domain errors.

A *workflow* is a public id (`[A-Za-z0-9_-]{1,64}`) mapped to a STANDARD state machine by the
`WORKFLOWS` variable; a *run* is one execution, and its `runId` is the execution name.

`WORKFLOWS` (JSON object, required by the run endpoints)::

    {"demo": "arn:aws:states:eu-west-1:123456789012:stateMachine:wf-api-demo"}

Every run's execution input is an envelope, so the state machine (and anyone reading the run
later) knows who started it and from which API request::

    {"input": {...caller's input...},
     "audit": {"startedBy": {"principal": ..., "scheme": ...}, "requestId": ...,
               "requestHash": ...}}
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from shared.api_errors import (
    ConflictError,
    DependencyBusyError,
    DependencyFailedError,
    InvalidRequestError,
    MalformedBodyError,
    NotFoundError,
    PayloadTooLargeError,
)
from shared.caller import Caller
from shared.scopes import WORKFLOW_ID
from shared.settings import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import DescribeExecutionOutputTypeDef

#: Step Functions' limit on an execution's input, in UTF-8 bytes (256 KiB, AWS quotas page
#: "Step Functions service quotas", "Maximum input or output size for a task, state, or
#: execution").
MAX_EXECUTION_INPUT_BYTES = 256 * 1024

#: Execution names we create are hex digests or UUIDs; Step Functions allows up to 80
#: characters. Anything else in a URL cannot be one of our runs and is refused before any call.
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")

#: An `Idempotency-Key` is visible ASCII (draft-ietf-httpapi-idempotency-key-header: a string).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

STATE_MACHINE_ARN = re.compile(
    r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}"
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: Our tokens wrap Step Functions' (at most 1024 characters); anything much longer is not ours.
MAX_NEXT_TOKEN_CHARS = 4096

#: Statuses in which a run can still be stopped.
ACTIVE_STATUSES = frozenset({"RUNNING", "PENDING_REDRIVE"})

#: Error codes meaning "slow down / try again": AWS throttling, quota and availability errors.
_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KmsThrottlingException",
        "ExecutionLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
    }
)


# --- errors -----------------------------------------------------------------------------------


class UnknownWorkflowError(NotFoundError):
    """The workflow id is not configured in `WORKFLOWS`."""

    code = "workflow_not_found"
    message = "No such workflow."


class RunNotFoundError(NotFoundError):
    """No execution with this name exists for the workflow's state machine."""

    code = "run_not_found"
    message = "No such run."


class InvalidRunIdError(InvalidRequestError):
    """The runId in the path cannot be an execution name we created."""

    code = "invalid_run_id"
    message = "The runId is malformed."


class InvalidLimitError(InvalidRequestError):
    """`limit` is not an integer from 1 to 100."""

    code = "invalid_limit"
    message = "limit must be an integer from 1 to 100."


class InvalidNextTokenError(InvalidRequestError):
    """`nextToken` was not issued by this endpoint for this workflow, or has expired."""

    code = "invalid_next_token"
    message = "nextToken is malformed or expired."


class InvalidIdempotencyKeyError(InvalidRequestError):
    """The `Idempotency-Key` header is empty, too long or not visible ASCII."""

    code = "invalid_idempotency_key"
    message = "Idempotency-Key must be 1 to 255 visible ASCII characters."


class IdempotencyConflictError(ConflictError):
    """The `Idempotency-Key` was already used by this caller for a different request."""

    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used with a different request."


class RunNotActiveError(ConflictError):
    """The run has already finished, so it cannot be cancelled."""

    code = "run_not_running"
    message = "The run is not running."


class InputTooLargeError(PayloadTooLargeError):
    """The execution input would exceed Step Functions' 256 KiB limit."""

    code = "input_too_large"
    message = "The run input exceeds the 256 KiB limit of the workflow engine."


# --- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    """Which workflows exist: public workflow id -> state machine ARN (`WORKFLOWS`)."""

    workflows: Mapping[str, str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkflowSettings:
        env = os.environ if env is None else env
        raw = env.get("WORKFLOWS", "").strip()
        if not raw:
            raise ConfigurationError("WORKFLOWS must be set to a JSON object {workflowId: ARN}")
        try:
            data = json.loads(raw)
        except ValueError:
            raise ConfigurationError("WORKFLOWS is not valid JSON") from None
        if not isinstance(data, dict):
            raise ConfigurationError("WORKFLOWS must be a JSON object {workflowId: ARN}")
        for workflow_id, arn in data.items():
            if not WORKFLOW_ID.fullmatch(workflow_id):
                raise ConfigurationError(
                    f"WORKFLOWS: workflow id {workflow_id!r} must match [A-Za-z0-9_-]{{1,64}}"
                )
            if not isinstance(arn, str) or not STATE_MACHINE_ARN.fullmatch(arn):
                raise ConfigurationError(
                    f"WORKFLOWS: {workflow_id!r} must map to a state machine ARN"
                )
        return cls(MappingProxyType(dict(data)))

    def state_machine(self, workflow_id: str) -> str:
        arn = self.workflows.get(workflow_id)
        if arn is None:
            raise UnknownWorkflowError(f"workflow {workflow_id!r} is not configured")
        return arn


def execution_arn(state_machine_arn: str, run_id: str) -> str:
    """The execution ARN of run `run_id`: same partition, region, account and machine name."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + run_id


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What a caller asks for when starting a run (from either start endpoint)."""

    workflow_id: str
    input: Mapping[str, Any]
    idempotency_key: str | None = None

    def request_hash(self) -> str:
        """Fingerprint of what was asked, so a reused Idempotency-Key can be told apart."""
        canonical = json.dumps(
            {"workflowId": self.workflow_id, "input": self.input},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_start_body(
    body: Any, *, workflow_id: str | None, idempotency_key: str | None
) -> StartRequest:
    """Validate a start body: `{"input": {...}}`, plus `"workflowId"` when not in the path.

    `workflow_id` is the path's id (`/api/workflows/{workflowId}/runs`), or None for
    `/api/trigger`, whose body names the workflow. Unknown fields are refused so that a typo
    (`workflowID`) does not silently start the wrong thing.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise MalformedBodyError("body is not a JSON object")
    allowed = {"input"} if workflow_id is not None else {"input", "workflowId"}
    unknown = set(body) - allowed
    if unknown:
        raise MalformedBodyError(f"unknown body fields: {sorted(unknown)[:5]}")
    if workflow_id is None:
        workflow_id = body.get("workflowId")
        if not isinstance(workflow_id, str) or not workflow_id:
            raise MalformedBodyError("workflowId missing or not a string")
    run_input = body.get("input", {})
    if not isinstance(run_input, dict):
        raise MalformedBodyError("input is not a JSON object")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise InvalidIdempotencyKeyError("malformed Idempotency-Key header")
    return StartRequest(workflow_id, run_input, idempotency_key)


def check_run_id(run_id: str) -> str:
    if not RUN_ID.fullmatch(run_id):
        raise InvalidRunIdError("malformed runId")
    return run_id


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    # Digits only: int() would also take " 5", "+5", "1_0" and Unicode digits.
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidLimitError(f"limit {raw[:10]!r} out of range")
    return int(raw)


def encode_next_token(workflow_id: str, engine_token: str) -> str:
    """Wrap Step Functions' token with the workflow it pages, so it is not usable elsewhere."""
    raw = json.dumps({"w": workflow_id, "t": engine_token}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_next_token(workflow_id: str, token: str | None) -> str | None:
    if token is None:
        return None
    if not token or len(token) > MAX_NEXT_TOKEN_CHARS:
        raise InvalidNextTokenError("nextToken empty or too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidNextTokenError("nextToken does not decode") from None
    if (
        not isinstance(data, dict)
        or data.get("w") != workflow_id
        or not isinstance(data.get("t"), str)
        or not data["t"]
    ):
        raise InvalidNextTokenError("nextToken was issued for another workflow or is malformed")
    engine_token: str = data["t"]
    return engine_token


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartedRun:
    workflow_id: str
    run_id: str
    status: str
    started_at: datetime
    replayed: bool = False
    """True when an Idempotency-Key matched an earlier request: no new run was started."""

    def as_json(self) -> dict[str, Any]:
        return {
            "workflowId": self.workflow_id,
            "runId": self.run_id,
            "status": self.status,
            "startedAt": iso(self.started_at),
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    status: str
    started_at: datetime | None
    stopped_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "status": self.status,
            "startedAt": iso(self.started_at),
            "stoppedAt": iso(self.stopped_at),
        }


@dataclass(frozen=True, slots=True)
class RunDetail:
    workflow_id: str
    run_id: str
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    input: Any
    output: Any
    started_by: Mapping[str, Any] | None
    request_id: str | None
    error: str | None
    cause: str | None
    request_hash: str | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "workflowId": self.workflow_id,
            "runId": self.run_id,
            "status": self.status,
            "startedAt": iso(self.started_at),
            "stoppedAt": iso(self.stopped_at),
            "input": self.input,
            "output": self.output,
            "startedBy": self.started_by,
            "requestId": self.request_id,
        }
        if self.error is not None:
            body["error"] = self.error
        if self.cause is not None:
            body["cause"] = self.cause
        return body


@dataclass(frozen=True, slots=True)
class RunPage:
    workflow_id: str
    runs: tuple[RunSummary, ...]
    next_token: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "workflowId": self.workflow_id,
            "runs": [run.as_json() for run in self.runs],
            "nextToken": self.next_token,
        }


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with milliseconds, e.g. `2026-01-31T12:00:00.000Z`."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# --- the service ------------------------------------------------------------------------------


def run_name(caller: Caller, idempotency_key: str) -> str:
    """The execution name for a caller's Idempotency-Key: equal for a retry, private to the caller.

    Hashing keeps the name within Step Functions' 80 characters and its character set, and
    means two callers using the same key never collide (the principal and scheme are mixed in).
    """
    material = "\x00".join((caller.scheme, caller.principal, idempotency_key))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


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
            with _translated():
                started = self._client.start_execution(
                    stateMachineArn=state_machine, name=name, input=document
                )
        except _EngineError as exc:
            if exc.code != "ExecutionAlreadyExists" or request.idempotency_key is None:
                raise exc.translate() from exc.__cause__
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
        with _translated(ExecutionDoesNotExist=RunNotFoundError):
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
        with _translated(InvalidToken=InvalidNextTokenError):
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
        with _translated(ExecutionDoesNotExist=RunNotFoundError):
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


class _EngineError(Exception):
    """A Step Functions error not (yet) translated: lets a caller inspect the code first."""

    def __init__(self, code: str, translated: Exception) -> None:
        super().__init__(code)
        self.code = code
        self._translated = translated

    def translate(self) -> Exception:
        return self._translated


@contextmanager
def _translated(**known: type[Exception]) -> Iterator[None]:
    """Turn botocore errors into domain errors; nothing from botocore leaves this module.

    `known` maps a Step Functions error code to the domain error it means for this call.
    Codes not listed become 503 (retryable) or 502 (anything else). Raises `_EngineError` for
    `ExecutionAlreadyExists` so that `start_run` can resolve it.
    """
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 (import cost)

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        domain: Exception
        if code in known:
            domain = known[code](f"Step Functions {code}")
        elif code in _RETRYABLE_CODES:
            domain = DependencyBusyError(f"Step Functions {code}")
        else:
            domain = DependencyFailedError(f"Step Functions {code}: {exc}")
        if code == "ExecutionAlreadyExists":
            raise _EngineError(code, domain) from exc
        raise domain from exc
    except BotoCoreError as exc:
        # Connection and read timeouts, endpoint unreachable: the engine may be back soon.
        raise DependencyBusyError(f"Step Functions unreachable: {type(exc).__name__}") from exc


# --- wiring -----------------------------------------------------------------------------------


def new_client() -> SFNClient:
    """A Step Functions client with short timeouts and the standard retry mode.

    boto3 is imported here, not at module level: the echo functions import this package's
    siblings and should not pay for boto3 at cold start.
    """
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3.client("stepfunctions", config=config)


@functools.cache
def default_service() -> WorkflowService:
    """The container's service, built on first use (tests call `default_service.cache_clear()`)."""
    return WorkflowService(WorkflowSettings.from_env(), new_client())
