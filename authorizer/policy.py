"""Scoped IAM policies that stay correct under API Gateway's result cache.

API Gateway caches one policy per authorizer and identity-source value and evaluates it for
every route that authorizer guards. So the policy lists every route of the invoking authorizer
that the caller may call and no other, never just the route being called.

The policy document stays under `MAX_POLICY_BYTES` for every accepted credential, however many
narrowed scopes it carries: when the concrete workflow ARNs would not fit, the routes with a
`{workflowId}` are allowed for every workflow instead (`*`). That widens only what API Gateway
lets through, never what is done: every handler re-checks the caller's scopes against the
workflow it acts on (`shared.http_api.ApiRequest.authorize`), and the audit's verdict is still
`permits`, the exact rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from authorizer.request import MethodArn
from shared.routes import WORKFLOW_ID_PARAM, AuthorizerName, Route, Scheme, routes_of
from shared.scopes import Grants

POLICY_VERSION = "2012-10-17"
ACTION = "execute-api:Invoke"
#: `json.dumps(policyDocument)` stays under this many bytes: API Gateway refuses larger
#: authorizer policies, and a cached policy that large costs every request that reuses it.
MAX_POLICY_BYTES = 8192
#: `json.dumps` of an Allow document with no resources; each resource adds its length plus 4
#: (quotes, comma and space). ARNs are ASCII with nothing to escape (workflow ids are
#: `[A-Za-z0-9_-]`), so this is exact up to the last comma.
_EMPTY_DOCUMENT_BYTES = len(
    json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [{"Action": ACTION, "Effect": "Allow", "Resource": []}],
        }
    )
)


def route_resources(
    route: Route, scheme: Scheme, grants: Grants, *, compact: bool = False
) -> list[str]:
    """The ARN paths of `route` this caller may call (`<METHOD>/<path>`), possibly none;
    `compact`: the whole route (`*` for the workflow id) instead of one ARN per workflow."""
    workflows = _permitted_workflows(route, scheme, grants)
    target = f"{route.method}/"
    if workflows is None or (compact and workflows):
        return [target + route.arn_path]
    return [target + route.arn_path_for(workflow_id) for workflow_id in sorted(workflows)]


def permits(route: Route, scheme: Scheme, grants: Grants, path_params: Mapping[str, str]) -> bool:
    """Whether this caller may call `route` with these path parameters: the verdict of the
    policy `build_policy` makes, decided from the same rule as its resources."""
    workflows = _permitted_workflows(route, scheme, grants)
    return workflows is None or path_params.get(WORKFLOW_ID_PARAM) in workflows


def _permitted_workflows(route: Route, scheme: Scheme, grants: Grants) -> frozenset[str] | None:
    """The rule behind both `route_resources` and `permits`: None when the caller may call the
    whole route, else the workflows it may call it for (none: it may not call it at all)."""
    if scheme not in route.allowed_schemes:
        return frozenset()
    if route.scope is None or grants.allows(route.scope):
        return None
    narrowed = grants.workflows(route.scope)
    if narrowed and WORKFLOW_ID_PARAM not in route.params:
        # A route without {workflowId} (POST /api/trigger) is open to narrowed holders; the
        # function checks the body's workflowId against their scopes.
        return None
    return narrowed


@lru_cache(maxsize=256)
def grants_of(scopes: tuple[str, ...]) -> Grants:
    """What a credential's scopes grant. Memoized: most callers share a handful of scope sets."""
    return Grants.from_scopes(scopes)


@lru_cache(maxsize=256)
def permitted_method_paths(
    authorizer: AuthorizerName, scheme: Scheme, scopes: tuple[str, ...], prefix_length: int = 0
) -> tuple[str, ...]:
    """`<METHOD>/<path>` of every route this caller may call, compacted when the policy with
    ARN prefixes of `prefix_length` characters would reach `MAX_POLICY_BYTES`. Memoized:
    callers with the same scopes (most of them) share one answer; the prefix (the same for
    every call of one API and stage) is added per call."""
    grants = grants_of(scopes)
    routes = routes_of(authorizer)
    paths = [path for route in routes for path in route_resources(route, scheme, grants)]
    size = _EMPTY_DOCUMENT_BYTES + sum(prefix_length + len(path) + 4 for path in paths)
    if size >= MAX_POLICY_BYTES:
        paths = [
            path
            for route in routes
            for path in route_resources(route, scheme, grants, compact=True)
        ]
    return tuple(paths)


def allowed_resources(
    arn: MethodArn, authorizer: AuthorizerName, scheme: Scheme, scopes: Iterable[str]
) -> list[str]:
    prefix = arn.resource("", "")[:-1]  # `arn:...:<api>/<stage>/`
    return [
        prefix + method_path
        for method_path in permitted_method_paths(authorizer, scheme, tuple(scopes), len(prefix))
    ]


def build_policy(
    principal: str,
    arn: MethodArn,
    authorizer: AuthorizerName,
    scheme: Scheme,
    scopes: Iterable[str],
    context: dict[str, str | int | bool],
) -> dict[str, Any]:
    """The authorizer response: Allow on every permitted route, or an explicit Deny on all."""
    resources = allowed_resources(arn, authorizer, scheme, scopes)
    if resources:
        statement = {"Action": ACTION, "Effect": "Allow", "Resource": resources}
    else:
        every = [arn.resource(r.method, r.arn_path) for r in routes_of(authorizer)]
        statement = {"Action": ACTION, "Effect": "Deny", "Resource": every}
    return {
        "principalId": principal,
        "policyDocument": {"Version": POLICY_VERSION, "Statement": [statement]},
        "context": context,
    }
