"""Running the template's Lambda functions in this process.

Each function is imported once (its cold start) and keeps its module state between calls, like
a warm container. Functions differ in their environment, and most read it at import time, so
the function's environment from the template is laid over `os.environ` while it is imported or
invoked; one lock serialises invocations (one Lambda container runs one event at a time).

All functions share the layer's one Logger and Metrics here, which read the service name once,
at import: each invocation relabels them with its own function's `POWERTOOLS_SERVICE_NAME`, so
the lines of every function say which function wrote them, as they do on Lambda.
"""

from __future__ import annotations

import importlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local.template import FunctionSpec
from shared.observability import use_service

_LOCK = threading.RLock()


@dataclass(slots=True)
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_ms: int = 3000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


@contextmanager
def _environment(overlay: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overlay}
    os.environ.update(overlay)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LocalFunction:
    """One function of the template, imported lazily and invoked with its own environment."""

    def __init__(self, spec: FunctionSpec, arn_prefix: str, env: Mapping[str, str]) -> None:
        self.spec = spec
        self.env = dict(env)
        self.arn = f"{arn_prefix}{spec.logical_id}"
        self._handler: Callable[[dict[str, Any], Any], Any] | None = None

    def _load(self) -> Callable[[dict[str, Any], Any], Any]:
        if self._handler is None:
            module = importlib.import_module(self.spec.module)
            self._handler = getattr(module, self.spec.attribute)
        return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=self.spec.logical_id,
            aws_request_id=str(uuid.uuid4()),
            invoked_function_arn=self.arn,
            timeout_ms=self.spec.timeout * 1000,
        )
        with _LOCK, _environment(self.env):
            self._label()
            return self._load()(event, context)

    def warm(self) -> None:
        """Import the function now, so a broken handler fails at start rather than on a call."""
        with _LOCK, _environment(self.env):
            self._label()
            self._load()

    def _label(self) -> None:
        service = self.env.get("POWERTOOLS_SERVICE_NAME")
        if service:
            use_service(service)
