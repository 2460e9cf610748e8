"""Reading the API from a SAM template, and the local run's view of template resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.cfn import Physical, Resolver, TemplateError, load_template
from local.deployment import Deployment
from local.template import read_api

FIXTURE = Path(__file__).parent / "fixtures" / "template.yaml"


def test_routes_authorizers_and_responses_come_from_the_template() -> None:
    template = load_template(FIXTURE)
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:demo"
    deployment = Deployment(resources={"DemoStateMachine": Physical(machine, {"Arn": machine})})
    api = read_api(template, deployment.resolver(template), FIXTURE.parent)
    assert api.stage == "v1"
    routes = {(r.method, r.path): (r.function, r.authorizer) for r in api.routes}
    assert routes == {
        ("GET", "/api/automate"): ("EchoFunction", "BearerAuthorizer"),
        ("GET", "/api/internal"): ("EchoFunction", "ApiKeyAuthorizer"),
        ("GET", "/api/workflows/{workflowId}/runs/{runId}"): ("EchoFunction", "BearerAuthorizer"),
    }
    bearer = api.authorizers["BearerAuthorizer"]
    assert (bearer.function, bearer.identity_headers, bearer.ttl_seconds) == (
        "AuthorizerFunction",
        ("Authorization",),
        300,
    )
    assert api.authorizers["ApiKeyAuthorizer"].ttl_seconds == 60
    assert api.functions["AuthorizerFunction"].module == "authorizer.app"
    assert api.functions["EchoFunction"].module == "tests.unit.local.fixtures.echo.app"
    env = api.functions["EchoFunction"].environment
    assert json.loads(env["WORKFLOWS"]) == {"demo": machine}
    assert env["POWERTOOLS_SERVICE_NAME"] == "workflow-api"  # from Globals
    unauthorized = api.gateway_responses["UNAUTHORIZED"]
    assert unauthorized.status == 401
    assert unauthorized.headers == {"WWW-Authenticate": "Bearer"}


def test_resolver_handles_sub_getatt_join_and_conditions() -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "v1"}},
        "Conditions": {"IsV1": {"Fn::Equals": [{"Ref": "Stage"}, "v1"]}},
        "Resources": {},
    }
    resolver = Resolver(template, resources={"Q": Physical("q-url", {"Arn": "arn:q"})})
    assert resolver.resolve({"Fn::Sub": "${Stage}-${AWS::Region}-${Q.Arn}-${!Literal}"}) == (
        "v1-us-east-1-arn:q-${Literal}"
    )
    assert resolver.resolve({"Fn::Sub": ["${X}/${Q}", {"X": {"Ref": "Stage"}}]}) == "v1/q-url"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-v1"
    assert resolver.resolve({"Fn::If": ["IsV1", "yes", "no"]}) == "yes"
    with pytest.raises(TemplateError):
        resolver.resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_the_real_template_serves_exactly_the_route_table() -> None:
    """What the local gateway serves is what `shared.routes` (and so the authorizer) knows."""
    from shared.routes import ROUTES  # noqa: PLC0415

    template_path = FIXTURE.parents[4] / "template.yaml"
    template = load_template(template_path)
    api = read_api(template, Deployment().resolver(template), template_path.parent)
    served = {
        (r.method, r.path, r.authorizer, api.functions[r.function].module) for r in api.routes
    }
    expected = {
        (r.method, r.path, r.authorizer.value if r.guarded else None, f"functions.{r.function}.app")
        for r in ROUTES
    }
    assert served == expected
    assert {a.identity_headers for a in api.authorizers.values()} == {
        ("Authorization",),
        ("X-Api-Key",),
    }
