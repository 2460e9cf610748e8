"""What can go wrong with a run, as domain errors (`shared.http_api` maps them to HTTP)."""

from __future__ import annotations

from shared.api_errors import (
    ConflictError,
    InvalidNextTokenError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
)


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


__all__ = [
    "IdempotencyConflictError",
    "InputTooLargeError",
    "InvalidIdempotencyKeyError",
    "InvalidNextTokenError",
    "InvalidRunIdError",
    "RunNotActiveError",
    "RunNotFoundError",
    "UnknownWorkflowError",
]
