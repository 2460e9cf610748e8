"""The policy builder over every route x scope x scheme, and the verdict (`permits`) proved
equal to "the policy built covers the invoked ARN" for every route."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authorizer.policy import allowed_resources, build_policy, permits
from authorizer.request import parse_method_arn
from shared import ROUTES, AuthorizerName, Grants, Route, Scheme, find_route
from tests.helpers import covers, method_arn, route_arn

ARN = parse_method_arn(method_arn("GET", "/api/automate"))
B, K = AuthorizerName.BEARER, AuthorizerName.API_KEY

AUTOMATE = route_arn("GET", "api/automate")
SECURE = route_arn("GET", "api/secure-automate")
TRIGGER = route_arn("POST", "api/trigger")
INTERNAL = route_arn("GET", "api/internal")
START = route_arn("POST", "api/workflows/*/runs")
LIST = route_arn("GET", "api/workflows/*/runs")
GET = route_arn("GET", "api/workflows/*/runs/*")
CANCEL = route_arn("POST", "api/workflows/*/runs/*/cancel")
KEYS = [
    route_arn("POST", "api/admin/api-keys"),
    route_arn("POST", "api/admin/api-keys/*/rotate"),
    route_arn("DELETE", "api/admin/api-keys/*"),
    route_arn("POST", "api/admin/revocations"),
    route_arn("GET", "api/admin/revocations"),
    route_arn("POST", "api/admin/clients"),
    route_arn("GET", "api/admin/clients"),
    route_arn("POST", "api/admin/clients/*/rotate"),
    route_arn("DELETE", "api/admin/clients/*"),
]

# The whole table: (authorizer, scheme, scopes) -> exactly the resources allowed.
CASES = [
    (B, Scheme.JWT, [], [AUTOMATE]),
    (B, Scheme.OAUTH, [], [SECURE]),
    (B, Scheme.JWT, ["workflow:read"], [AUTOMATE, LIST, GET]),
    (B, Scheme.OAUTH, ["workflow:read"], [SECURE, LIST, GET]),
    (B, Scheme.JWT, ["workflow:trigger"], [AUTOMATE, TRIGGER, START]),
    (B, Scheme.JWT, ["workflow:admin"], [AUTOMATE, TRIGGER, START, LIST, GET, CANCEL, *KEYS]),
    (B, Scheme.OAUTH, ["workflow:admin"], [SECURE, TRIGGER, START, LIST, GET, CANCEL, *KEYS]),
    (
        B, Scheme.JWT, ["workflow:read:wf-1", "workflow:read:wf_2"],
        [AUTOMATE,
         route_arn("GET", "api/workflows/wf-1/runs"), route_arn("GET", "api/workflows/wf_2/runs"),
         route_arn("GET", "api/workflows/wf-1/runs/*"),
         route_arn("GET", "api/workflows/wf_2/runs/*")],
    ),
    (
        B, Scheme.JWT, ["workflow:trigger:wf-1"],
        [AUTOMATE, TRIGGER, route_arn("POST", "api/workflows/wf-1/runs")],
    ),
    (B, Scheme.JWT, ["workflow:admin:wf-1", "workflow:read:bad/id", "Workflow:read"], [AUTOMATE]),
    (B, Scheme.JWT, ["workflow:read", "workflow:read:wf-1"], [AUTOMATE, LIST, GET]),
    (B, Scheme.API_KEY, ["workflow:admin"], []),
    (K, Scheme.API_KEY, [], [INTERNAL]),
    (K, Scheme.API_KEY, ["workflow:admin"], [INTERNAL]),
    (K, Scheme.JWT, ["workflow:admin"], []),
    (K, Scheme.OAUTH, [], []),
]  # fmt: skip


@pytest.mark.parametrize(("authorizer", "scheme", "scopes", "expected"), CASES)
def test_policy_lists_exactly_the_permitted_routes(
    authorizer: AuthorizerName, scheme: Scheme, scopes: list[str], expected: list[str]
) -> None:
    assert sorted(allowed_resources(ARN, authorizer, scheme, scopes)) == sorted(expected)


SCOPE_SETS = [
    [], ["workflow:read"], ["workflow:trigger"], ["workflow:admin"],
    ["workflow:read:a"], ["workflow:trigger:a"], ["workflow:read:a", "workflow:trigger:b"],
]  # fmt: skip


@pytest.mark.parametrize(
    ("authorizer", "scheme", "scopes"),
    list(itertools.product([B, K], list(Scheme), SCOPE_SETS)),
)
def test_every_combination_stays_inside_its_authorizer(
    authorizer: AuthorizerName, scheme: Scheme, scopes: list[str]
) -> None:
    """Whatever the scopes, a policy names only routes of the invoking authorizer (API Gateway
    caches per authorizer), and only routes whose scheme rule and scope rule admit the caller."""
    own = {r.method + "/" + r.arn_path for r in ROUTES if r.authorizer is authorizer}
    prefix = route_arn("", "")[:-1]
    for resource in allowed_resources(ARN, authorizer, scheme, scopes):
        method_path = resource.removeprefix(prefix)
        method, _, path = method_path.partition("/")
        generic = [o for o in own if o.split("/", 1)[0] == method]
        assert any(_same_shape(path, g.split("/", 1)[1]) for g in generic), resource
        route = next(
            r for r in ROUTES
            if r.authorizer is authorizer and r.method == method
            and _same_shape(path, r.arn_path)
        )  # fmt: skip
        assert scheme in route.allowed_schemes
        if route.scope == "workflow:admin":
            assert "workflow:admin" in scopes


def _same_shape(concrete: str, generic: str) -> bool:
    a, b = concrete.split("/"), generic.split("/")
    return len(a) == len(b) and all(y in ("*", x) for x, y in zip(a, b, strict=True))


def test_nothing_permitted_is_an_explicit_deny_on_every_route_of_the_authorizer() -> None:
    policy = build_policy("svc", ARN, B, Scheme.API_KEY, [], {"principal": "svc"})
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "execute-api:Invoke"
    assert len(statement["Resource"]) == len([r for r in ROUTES if r.authorizer is B])


def test_arns_follow_the_invoking_method_arn() -> None:
    arn = parse_method_arn(
        "arn:aws-cn:execute-api:cn-north-1:210987654321:zz9/prod/POST/api/trigger"
    )
    (resource,) = allowed_resources(arn, B, Scheme.OAUTH, [])
    assert (
        resource
        == "arn:aws-cn:execute-api:cn-north-1:210987654321:zz9/prod/GET/api/secure-automate"
    )


UNGUARDED = [r for r in ROUTES if r.authorizer is AuthorizerName.NONE]
GUARDED = [r for r in ROUTES if r.guarded]


def test_the_token_service_routes_have_no_authorizer() -> None:
    assert {(r.method, r.path) for r in UNGUARDED} == {
        ("POST", "/oauth/token"),
        ("GET", "/.well-known/oauth-authorization-server"),
    }


@pytest.mark.parametrize(
    ("authorizer", "scheme", "scopes"),
    list(itertools.product([B, K], list(Scheme), [*SCOPE_SETS, ["workflow:admin", "x"]])),
)
def test_routes_without_an_authorizer_never_appear_in_a_policy(
    authorizer: AuthorizerName, scheme: Scheme, scopes: list[str]
) -> None:
    """Allowed or denied, no policy names the token endpoint or the metadata: API Gateway never
    consults a policy for them, and a policy that listed them would be wrong for the cache."""
    unguarded = {route_arn(r.method, r.arn_path) for r in UNGUARDED}
    for built in (
        build_policy("svc", ARN, authorizer, scheme, scopes, {}),
        build_policy("svc", ARN, authorizer, Scheme.API_KEY if authorizer is B else Scheme.JWT,
                     [], {}),
    ):  # fmt: skip
        (statement,) = built["policyDocument"]["Statement"]
        assert not unguarded & set(statement["Resource"])


# --- the verdict: `permits` agrees with the policy it goes with ---------------------------------


def concrete(route: Route, values: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A request path of `route`, each parameter set from `values` (default `x1`)."""
    params = {name: values.get(name, "x1") for name in route.params}
    path = route.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path, params


def verdicts(
    route: Route, scheme: Scheme, scopes: list[str], values: dict[str, str]
) -> tuple[bool, bool]:
    """(`permits`, "the built policy covers the invoked ARN") for one request."""
    path, params = concrete(route, values)
    assert find_route(route.method, path) == (route, params)  # the request is that route's
    arn = parse_method_arn(method_arn(route.method, path))
    policy = build_policy("p", arn, route.authorizer, scheme, scopes, {"principal": "p"})
    invoked = arn.resource(arn.method, arn.path.lstrip("/"))
    return permits(route, scheme, Grants.from_scopes(scopes), params), covers(policy, invoked)


VERDICT_SCOPES = [
    *SCOPE_SETS, ["workflow:admin:a"], ["workflow:read", "workflow:trigger:a"],
    ["workflow:trigger:a", "workflow:trigger:b"], ["workflow:read:b", "workflow:admin"],
    ["unknown", "workflow:read:bad/id"],
]  # fmt: skip
WORKFLOW_IDS = ["a", "b", "wf-1", "aa"]


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: f"{r.method} {r.path}")
def test_permits_agrees_with_the_policy_for_every_route_scope_set_scheme_and_workflow(
    route: Route,
) -> None:
    allowed = 0
    for scheme, scopes, workflow_id in itertools.product(Scheme, VERDICT_SCOPES, WORKFLOW_IDS):
        verdict, covered = verdicts(route, scheme, scopes, {"workflowId": workflow_id})
        assert verdict == covered, (scheme, scopes, workflow_id)
        allowed += verdict
    assert allowed  # every route is callable by someone


path_values = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzAB019_-.~%:@!$&'()+,;=", min_size=1, max_size=12
)


@given(
    route=st.sampled_from(GUARDED),
    scheme=st.sampled_from(list(Scheme)),
    scopes=st.lists(
        st.sampled_from(["workflow:read", "workflow:trigger", "workflow:admin", "other"])
        | st.builds(
            lambda base, workflow_id: f"{base}:{workflow_id}",
            st.sampled_from(["workflow:read", "workflow:trigger", "workflow:admin"]),
            st.sampled_from(WORKFLOW_IDS) | path_values,
        ),
        max_size=5,
    ),
    values=st.fixed_dictionaries(
        {},
        optional={
            "workflowId": st.sampled_from(WORKFLOW_IDS) | path_values,
            "runId": path_values,
            "keyId": path_values,
        },
    ),
)
def test_permits_agrees_with_the_policy_for_any_scopes_and_path(
    route: Route, scheme: Scheme, scopes: list[str], values: dict[str, str]
) -> None:
    verdict, covered = verdicts(route, scheme, scopes, values)
    assert verdict == covered
