"""Workflows, runs and the requests about them: configuration, parsing and results.

A *workflow* is a public id (`[A-Za-z0-9_-]{1,64}`) mapped to a STANDARD state machine by the
`WORKFLOWS` variable; a *run* is one execution, and its `runId` is the execution name.

`WORKFLOWS` (JSON object, required by the run endpoints)::

    {"demo": "arn:aws:states:eu-west-1:123456789012:stateMachine:wf-api-demo"}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from shared.api_errors import MalformedBodyError
from shared.caller import Caller
from shared.runs.errors import (
    InvalidIdempotencyKeyError,
    InvalidNextTokenError,
    InvalidRunIdError,
    UnknownWorkflowError,
)
from shared.scopes import WORKFLOW_ID
from shared.settings import ConfigurationError

#: Step Functions' limit on an execution's input, in UTF-8 bytes (256 KiB, AWS quotas page
#: "Step Functions service quotas", "Maximum input or output size for a task, state, or
#: execution").
MAX_EXECUTION_INPUT_BYTES = 256 * 1024

#: Execution names we create are hex digests or UUIDs; Step Functions allows up to 80
#: characters. Anything else in a URL cannot be one of our runs and is refused before any call.
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")

#: An `Idempotency-Key` is visible ASCII (draft-ietf-httpapi-idempotency-key-header: a string).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
IDEMPOTENCY_HEADER = "Idempotency-Key"

STATE_MACHINE_ARN = re.compile(
    r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}"
)

DEFAULT_PAGE_SIZE = 20
#: Our tokens wrap Step Functions' (at most 1024 characters); anything much longer is not ours.
MAX_NEXT_TOKEN_CHARS = 4096

#: Statuses in which a run can still be stopped.
ACTIVE_STATUSES = frozenset({"RUNNING", "PENDING_REDRIVE"})


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


def run_name(caller: Caller, idempotency_key: str) -> str:
    """The execution name for a caller's Idempotency-Key: equal for a retry, private to the caller.

    Hashing keeps the name within Step Functions' 80 characters and its character set, and
    means two callers using the same key never collide (the principal and scheme are mixed in).
    """
    material = "\x00".join((caller.scheme, caller.principal, idempotency_key))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
