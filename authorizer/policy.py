"""Scoped IAM policies that stay correct under API Gateway's result cache.

API Gateway caches one policy per authorizer and identity-source value and evaluates it for
every route that authorizer guards. So the policy lists every route of the invoking authorizer
that the caller may call and no other, never just the route being called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from authorizer.request import MethodArn
from shared.routes import WORKFLOW_ID_PARAM, AuthorizerName, Route, Scheme, routes_of
from shared.scopes import Grants

POLICY_VERSION = "2012-10-17"
ACTION = "execute-api:Invoke"


def route_resources(route: Route, scheme: Scheme, grants: Grants) -> list[str]:
    """The ARN paths of `route` this caller may call (`<METHOD>/<path>`), possibly none."""
    if scheme not in route.allowed_schemes:
        return []
    target = f"{route.method}/"
    if route.scope is None or grants.allows(route.scope):
        return [target + route.arn_path]
    narrowed = sorted(grants.workflows(route.scope))
    if not narrowed:
        return []
    if WORKFLOW_ID_PARAM in route.params:
        return [target + route.arn_path_for(workflow_id) for workflow_id in narrowed]
    # A route without {workflowId} (POST /api/trigger) is open to narrowed holders; the
    # function checks the body's workflowId against their scopes.
    return [target + route.arn_path]


@lru_cache(maxsize=256)
def permitted_method_paths(
    authorizer: AuthorizerName, scheme: Scheme, scopes: tuple[str, ...]
) -> tuple[str, ...]:
    """`<METHOD>/<path>` of every route this caller may call. Memoized: callers with the same
    scopes (most of them) share one answer; the ARN prefix is added per call."""
    grants = Grants.from_scopes(scopes)
    return tuple(
        method_path
        for route in routes_of(authorizer)
        for method_path in route_resources(route, scheme, grants)
    )


def allowed_resources(
    arn: MethodArn, authorizer: AuthorizerName, scheme: Scheme, scopes: Iterable[str]
) -> list[str]:
    prefix = arn.resource("", "")[:-1]  # `arn:...:<api>/<stage>/`
    return [
        prefix + method_path
        for method_path in permitted_method_paths(authorizer, scheme, tuple(scopes))
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


def covers(policy: dict[str, Any], resource: str) -> bool:
    """Whether an Allow statement of the policy matches `resource` (`*` spans any characters,
    as in API Gateway's evaluation of execute-api ARNs)."""
    for statement in policy["policyDocument"]["Statement"]:
        if statement["Effect"] == "Allow" and any(
            _wildcard(pattern).fullmatch(resource) for pattern in statement["Resource"]
        ):
            return True
    return False


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
