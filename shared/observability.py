"""The one place that owns the Logger, the Metrics and the audit writer of every function.

Log messages are constant strings with data in keyword fields; metric names are PascalCase and
their dimensions low-cardinality. Every line, Powertools' and the audit writer's, carries an
RFC 3339 UTC timestamp (`2026-01-31T12:00:00.000+00:00`). No Tracer: it pulls in aws-xray-sdk
(about 0.45 s of cold start) and nothing here needs traces yet.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "workflow-api")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "WorkflowApi")

logger = Logger(service=SERVICE, use_rfc3339=True, utc=True)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

#: Keys of Powertools' line layout that are filled per record (placeholders, not values).
_PER_RECORD_KEYS = frozenset({"level", "location", "message", "timestamp"})


#: The keys Powertools' `inject_lambda_context` appends to every line of an invocation.
LAMBDA_CONTEXT_KEYS = (
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
    "xray_trace_id",
)


def use_service(name: str) -> None:
    """Label every following log line and metric with service `name`, and drop the Lambda
    context keys an earlier invocation left on the logger.

    On Lambda each function has its own process and the name read at import is right. The
    local gateway runs every function in one process, and calls this before each invocation:
    without the reset, a function that does not inject its own context (the authorizer) would
    log under the function that ran before it.
    """
    logger.remove_keys(list(LAMBDA_CONTEXT_KEYS))
    logger.append_keys(service=name)
    metrics.service = name


def fingerprint(credential: str | bytes) -> str:
    """A short, non-reversible tag to correlate log lines about one credential.

    12 hex digits of SHA-256: enough to tell credentials apart in an audit trail, far too few
    to help guess a high-entropy token or key.
    """
    data = (
        credential.encode("utf-8", "surrogatepass") if isinstance(credential, str) else credential
    )
    return hashlib.sha256(data).hexdigest()[:12]


def write_audit(message: str, *, level: str = "INFO", **fields: Any) -> None:
    """One JSON audit line on the logger's stream, laid out as Powertools lays out a line:
    `level`, `message`, `timestamp`, the logger's keys (`service`, and the Lambda context keys
    `inject_lambda_context` appended), then the fields; None values are left out.

    This is the only audit writer: the authorizer's decisions and the handlers' actions
    (`run.started`, `api_key.issued`, ...) all come through here. It writes directly rather
    than through `logger.info`, for two reasons: an audit trail must not depend on
    `POWERTOOLS_LOG_LEVEL` (an operator quieting the logs must not silence it), and the
    authorizer writes one per invocation, where Powertools' record, handler and formatter cost
    about 30 us against 5 us for the line itself (bench/whatif.py).
    """
    line: dict[str, Any] = {
        "level": level,
        "message": message,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    for name, value in logger.get_current_keys().items():
        if value is not None and name not in _PER_RECORD_KEYS:
            line[name] = value
    for name, value in fields.items():
        if value is not None:
            line[name] = value
    stream = logger.registered_handler.stream  # type: ignore[attr-defined]
    stream.write(json.dumps(line, default=str) + "\n")
