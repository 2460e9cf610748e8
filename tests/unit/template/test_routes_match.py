"""template.yaml declares exactly the route table of shared/routes.py, route for route, with
the authorizers the authorizer itself assumes (names, identity sources, caching)."""

from __future__ import annotations

import copy
from typing import Any

from shared.routes import AUTHORIZERS, IDENTITY_HEADER, ROUTES, AuthorizerName
from tests.unit.template.conftest import expand_language_extensions

Routes = set[tuple[str, str, str, str]]


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _declared_routes(template: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    routes = []
    for resource in _functions(template).values():
        props = resource["Properties"]
        folder = props["CodeUri"].rstrip("/").removeprefix("functions/")
        for event in props.get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            api = event["Properties"]
            assert api["RestApiId"] == {"Ref": "WorkflowApi"}
            routes.append((api["Method"].upper(), api["Path"], api["Auth"]["Authorizer"], folder))
    return routes


def test_template_routes_equal_the_route_table(template: dict[str, Any]) -> None:
    declared = _declared_routes(template)
    expected = [(r.method, r.path, r.authorizer.value, r.function) for r in ROUTES]

    assert len(declared) == len(set(declared)), "a route is declared twice"
    assert sorted(declared) == sorted(expected)


def test_every_route_names_its_authorizer(template: dict[str, Any]) -> None:
    # The DefaultAuthorizer is a safety net only: an explicit name per route is what the test
    # above compares, so a route left on the default could silently change authorizer.
    for resource in _functions(template).values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "Api":
                continue  # the edge functions' schedules
            assert event["Properties"]["Auth"]["Authorizer"] in set(AuthorizerName)


def test_routes_without_an_authorizer_say_so_explicitly(template: dict[str, Any]) -> None:
    """`Authorizer: NONE` overrides the API's DefaultAuthorizer (SAM's spelling); the table
    marks exactly those routes `AuthorizerName.NONE`, and only the token service has them."""
    unguarded = {
        (method, path)
        for method, path, authorizer, _ in _declared_routes(template)
        if authorizer == AuthorizerName.NONE.value
    }
    assert unguarded == {(r.method, r.path) for r in ROUTES if not r.guarded}
    assert unguarded == {
        ("POST", "/oauth/token"),
        ("GET", "/.well-known/oauth-authorization-server"),
    }


def test_each_handler_folder_exists_with_its_handler(template: dict[str, Any]) -> None:
    from tests.helpers import ROOT  # noqa: PLC0415

    for name, resource in _functions(template).items():
        props = resource["Properties"]
        module = props["Handler"].rsplit(".", 1)[0].replace(".", "/")
        if name == "AuthorizerFunction":
            assert (ROOT / f"{module}.py").is_file()
        else:
            assert (ROOT / props["CodeUri"] / f"{module}.py").is_file(), name


def test_two_request_authorizers_on_one_function_with_caching(template: dict[str, Any]) -> None:
    """With the default parameters (DPoP off: tests/unit/template/test_dpop_modes.py has the
    other modes)."""
    api = expand_language_extensions(copy.deepcopy(template), {})["Resources"]["WorkflowApi"][
        "Properties"
    ]
    authorizers = api["Auth"]["Authorizers"]

    assert set(authorizers) == {name.value for name in AUTHORIZERS}
    for name, header in IDENTITY_HEADER.items():
        authorizer = authorizers[name.value]
        assert authorizer["FunctionPayloadType"] == "REQUEST"
        assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
        assert authorizer["Identity"]["Headers"] == [header]
        assert authorizer["Identity"]["ReauthorizeEvery"] == {"Ref": "ReauthorizeEvery"}
    assert template["Parameters"]["ReauthorizeEvery"]["Default"] == 300
    assert template["Parameters"]["StageName"]["Default"] == "v1"
    assert api["StageName"] == {"Ref": "StageName"}
