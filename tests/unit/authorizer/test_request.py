"""Reading the event: the matched route keeps its path parameters (the verdict needs them), and
a second header is read with the same one-value rule as the identity source."""

from __future__ import annotations

import pytest

from authorizer.errors import CredentialError
from authorizer.request import _ARN, MethodArn, parse_method_arn, read_request
from shared import find_route
from tests.helpers import authorizer_event


def test_the_matched_route_keeps_its_path_parameters() -> None:
    request = read_request(authorizer_event("GET", "/api/workflows/wf-1/runs/r-9"))
    assert (request.route, dict(request.path_params)) == find_route(
        "GET", "/api/workflows/wf-1/runs/r-9"
    )
    assert request.path_params == {"workflowId": "wf-1", "runId": "r-9"}
    assert read_request(authorizer_event("GET", "/api/automate")).path_params == {}


def test_another_header_is_read_case_insensitively_and_only_once() -> None:
    request = read_request(
        authorizer_event("GET", "/api/automate", {"Authorization": "Bearer x", "dpop": "proof"})
    )
    assert request.header("DPoP") == "proof"
    assert request.header("X-Missing") is None
    twice = read_request(
        authorizer_event("GET", "/api/automate", {"DPoP": "a"}, multi={"DPoP": ["a", "b"]})
    )
    with pytest.raises(CredentialError, match="multiple_credentials"):
        twice.header("DPoP")


def test_the_method_arn_is_built_from_its_groups_in_field_order() -> None:
    """`parse_method_arn` passes the ARN pattern's groups positionally (it is on the warm path)."""
    groups = sorted(_ARN.groupindex, key=_ARN.groupindex.__getitem__)
    assert tuple(groups) == MethodArn._fields
    arn = parse_method_arn("arn:aws-cn:execute-api:cn-north-1:210987654321:zz9/prod/POST/api/x")
    assert arn == MethodArn("aws-cn", "cn-north-1", "210987654321", "zz9", "prod", "POST", "/api/x")
