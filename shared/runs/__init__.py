"""Workflow runs: AWS Step Functions executions started, read, listed and stopped through the
API (`/api/trigger`, `/api/workflows/{workflowId}/runs...`).

- `model`: workflows (`WORKFLOWS`), requests and results, with their validation;
- `service`: `WorkflowService`, the only code that calls Step Functions;
- `start`: the start endpoint's body, shared by the two functions that start runs;
- `errors`: what can go wrong, as domain errors.
"""

from shared.runs.errors import (
    IdempotencyConflictError,
    InputTooLargeError,
    InvalidIdempotencyKeyError,
    InvalidNextTokenError,
    InvalidRunIdError,
    RunNotActiveError,
    RunNotFoundError,
    UnknownWorkflowError,
)
from shared.runs.model import (
    DEFAULT_PAGE_SIZE,
    IDEMPOTENCY_HEADER,
    MAX_EXECUTION_INPUT_BYTES,
    RUN_ID,
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
    iso,
    parse_start_body,
    run_name,
)
from shared.runs.service import WorkflowService, default_service
from shared.runs.start import start_run

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "IDEMPOTENCY_HEADER",
    "MAX_EXECUTION_INPUT_BYTES",
    "RUN_ID",
    "IdempotencyConflictError",
    "InputTooLargeError",
    "InvalidIdempotencyKeyError",
    "InvalidNextTokenError",
    "InvalidRunIdError",
    "RunDetail",
    "RunNotActiveError",
    "RunNotFoundError",
    "RunPage",
    "RunSummary",
    "StartRequest",
    "StartedRun",
    "UnknownWorkflowError",
    "WorkflowService",
    "WorkflowSettings",
    "check_run_id",
    "decode_next_token",
    "default_service",
    "encode_next_token",
    "execution_arn",
    "iso",
    "parse_start_body",
    "run_name",
    "start_run",
]
