"""Evaluating a Lambda authorizer's output against the invoked method ARN, as API Gateway does.

An explicit Deny on a matching statement wins over any Allow; no matching statement is an
implicit deny. `*` matches any run of characters (including `/`) and `?` exactly one, in
`Action` and `Resource` alike; actions compare case-insensitively, resources case-sensitively
(IAM policy evaluation logic).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

INVOKE = "execute-api:Invoke"


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


class MalformedOutputError(ValueError):
    """The authorizer returned something API Gateway would reject (500)."""


@dataclass(frozen=True, slots=True)
class AuthorizerOutput:
    principal_id: str
    statements: tuple[Mapping[str, Any], ...]
    context: Mapping[str, str | int | float | bool]


def parse_output(output: object) -> AuthorizerOutput:
    """Validate the authorizer's answer the way API Gateway does before using it."""
    if not isinstance(output, Mapping):
        raise MalformedOutputError("output is not an object")
    principal = output.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise MalformedOutputError("principalId missing")
    document = output.get("policyDocument")
    if not isinstance(document, Mapping):
        raise MalformedOutputError("policyDocument missing")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise MalformedOutputError("Statement must be a list of objects")
    for statement in statements:
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedOutputError("Effect must be Allow or Deny")
        if not any(k in statement for k in ("Action", "NotAction")):
            raise MalformedOutputError("statement without Action")
        if not any(k in statement for k in ("Resource", "NotResource")):
            raise MalformedOutputError("statement without Resource")
    context = output.get("context") or {}
    if not isinstance(context, Mapping):
        raise MalformedOutputError("context must be an object")
    for key, value in context.items():
        # Objects and arrays are refused by API Gateway at integration time (500).
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            raise MalformedOutputError("context values must be strings, numbers or booleans")
    return AuthorizerOutput(principal, tuple(statements), dict(context))


def evaluate(statements: tuple[Mapping[str, Any], ...], method_arn: str) -> Decision:
    """Whether the statements let the caller invoke `method_arn`."""
    allowed = False
    for statement in statements:
        if not _matches(statement, method_arn):
            continue
        if statement["Effect"] == "Deny":
            return Decision.EXPLICIT_DENY
        allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _matches(statement: Mapping[str, Any], method_arn: str) -> bool:
    if "Action" in statement:
        action_ok = _any_match(statement["Action"], INVOKE, ignore_case=True)
    else:
        action_ok = not _any_match(statement["NotAction"], INVOKE, ignore_case=True)
    if not action_ok:
        return False
    if "Resource" in statement:
        return _any_match(statement["Resource"], method_arn, ignore_case=False)
    return not _any_match(statement["NotResource"], method_arn, ignore_case=False)


def _any_match(patterns: object, value: str, *, ignore_case: bool) -> bool:
    items = [patterns] if isinstance(patterns, str) else patterns
    if not isinstance(items, list):
        return False
    return any(
        isinstance(p, str) and _compiled(p, ignore_case).fullmatch(value) is not None for p in items
    )


@lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    flags = (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL
    return re.compile(regex, flags)
