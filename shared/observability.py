"""The one place that owns the Logger and Metrics of every function.

Log messages are constant strings with data in keyword fields; metric names are PascalCase and
their dimensions low-cardinality. No Tracer: it pulls in aws-xray-sdk (about 0.45 s of cold
start) and nothing here needs traces yet.
"""

from __future__ import annotations

import hashlib
import os

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
