"""The local run hosts every function in one process, where the layer's one Logger and Metrics
read the service name once: each function's lines must still carry its own service, and every
line (Powertools' and the audit writer's) the same RFC 3339 timestamp format."""

from __future__ import annotations

import re

import pytest

from local.gateway.lambdas import LocalFunction
from local.template import FunctionSpec
from shared.observability import SERVICE, use_service
from tests.conftest import LogLines
from tests.integration.functions.support import api_event

ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"
#: `2026-01-31T12:00:00.000+00:00`: RFC 3339, UTC, milliseconds.
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def local_function(module: str, service: str) -> LocalFunction:
    spec = FunctionSpec(module.replace(".", "-"), module, "lambda_handler", {})
    return LocalFunction(spec, ARN_PREFIX, {"POWERTOOLS_SERVICE_NAME": service})


def test_each_function_labels_its_lines_with_its_own_service(log_lines: LogLines) -> None:
    authorizer = local_function("authorizer.app", "workflow-api-authorizer")
    handler = local_function("functions.get_automate.app", "workflow-api")
    rotation = local_function("functions.rotate_secret.app", "workflow-api-rotation")
    try:
        rotation.warm()  # imported first, as in the gateway: its name must not stick
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.invoke({"methodArn": "not-an-arn"})  # refused: one audit line
        event = api_event("GET", "/api/automate")
        del event["requestContext"]["authorizer"]  # refused with 403: one warning line
        assert handler.invoke(event)["statusCode"] == 403
    finally:
        use_service(SERVICE)

    lines = log_lines()
    decision = next(line for line in lines if line["message"] == "authorizer decision")
    refused = next(line for line in lines if line["message"] == "request refused")
    assert decision["service"] == "workflow-api-authorizer"
    assert refused["service"] == "workflow-api"
    assert all(RFC3339.fullmatch(line["timestamp"]) for line in (decision, refused)), lines


def test_a_line_never_carries_the_previous_invocations_function(log_lines: LogLines) -> None:
    """The authorizer injects no Lambda context of its own: its audit line must not name the
    handler that ran before it in the same process."""
    authorizer = local_function("authorizer.app", "workflow-api-authorizer")
    handler = local_function("functions.get_automate.app", "workflow-api")
    try:
        event = api_event("GET", "/api/automate")
        del event["requestContext"]["authorizer"]
        assert handler.invoke(event)["statusCode"] == 403
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.invoke({"methodArn": "not-an-arn"})
    finally:
        use_service(SERVICE)

    lines = log_lines()
    refused = next(line for line in lines if line["message"] == "request refused")
    decision = next(line for line in lines if line["message"] == "authorizer decision")
    assert refused["function_name"] == handler.spec.logical_id  # the handler's own context
    assert "function_name" not in decision
    assert "function_request_id" not in decision
