"""The policy builder over every route x scope x scheme (SPEC section 3, Output on success)."""

from __future__ import annotations

import itertools

import pytest

from authorizer.policy import allowed_resources, build_policy
from authorizer.request import parse_method_arn
from shared import ROUTES, AuthorizerName, Scheme
from tests.helpers import method_arn, route_arn

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
