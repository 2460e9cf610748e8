"""Process-wide test setup: never talk to real AWS, whatever the machine's environment says."""

from __future__ import annotations

import os

# Set before any handler module creates a boto3 client (see ../shared/TOOLING.md, moto).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "workflow-api-test",
        "POWERTOOLS_METRICS_NAMESPACE": "WorkflowApiTest",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the shared Powertools logger writes during the test.

    Its handler holds the `sys.stdout` of import time, which `capsys` does not see; point it
    at a buffer instead.
    """
    from shared.observability import logger  # noqa: PLC0415 - after the environment is set

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
