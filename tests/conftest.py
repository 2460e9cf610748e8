"""Process-wide test setup: never talk to real AWS, whatever the machine's environment says;
capture log lines for tests that read them; and prove that no test ever leaks a secret."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.leakguard import LeakGuard, install

# Set before any handler module creates a boto3 client: moto needs fake credentials and a
# region to exist first, and no endpoint override.
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


@pytest.fixture(scope="session", autouse=True)
def no_secret_leaks() -> Iterator[LeakGuard]:
    """Fails the session if any token, API key or signing key the tests made appears in a log
    line, a metric blob or an error body (docs/security.md, "No secret in a log")."""
    guard = LeakGuard()
    install(guard)
    yield guard
    guard.undo()
    leaks = guard.leaks()
    assert not leaks, f"secrets found in logs, metrics or error bodies: {leaks}"


#: What the `log_lines` fixture gives a test: a call that returns the lines written so far.
LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """The JSON lines the shared Powertools logger writes during the test.

    Its handler holds the `sys.stdout` of import time, which `capsys` does not see; tee it into
    a buffer (the leak guard still sees every line).
    """
    from shared.observability import logger  # noqa: PLC0415 - after the environment is set

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(_Both(buffer, handler.stream))  # type: ignore[attr-defined]
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


class _Both(io.TextIOBase):
    """Write to the test's buffer and on to the previous stream."""

    def __init__(self, buffer: io.StringIO, previous: Any) -> None:
        self.buffer_, self.previous = buffer, previous

    def write(self, text: str) -> int:
        self.buffer_.write(text)
        return int(self.previous.write(text))

    def flush(self) -> None:
        self.previous.flush()
