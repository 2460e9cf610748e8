"""The one place that owns the Logger and Metrics of every function.

Log messages are constant strings with data in keyword fields; metric names are PascalCase and
their dimensions low-cardinality. No Tracer: it pulls in aws-xray-sdk (about 0.45 s of cold
start) and nothing here needs traces yet.
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

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


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
    """One JSON audit line on the logger's stream: `level`, `message`, `timestamp`, `service`,
    then the fields (None values left out), as Powertools' formatter lays a line out.

    Written directly rather than through `logger.info`, for two reasons: an audit trail must not
    depend on `POWERTOOLS_LOG_LEVEL` (an operator quieting the logs must not silence it), and
    the authorizer writes one per invocation, where Powertools' record, handler and formatter
    cost about 30 us against 5 us for the line itself (bench/whatif.py).
    """
    line = {
        "level": level,
        "message": message,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "service": SERVICE,
        **{name: value for name, value in fields.items() if value is not None},
    }
    stream = logger.registered_handler.stream  # type: ignore[attr-defined]
    stream.write(json.dumps(line, default=str) + "\n")
