"""The admin API's requests about API keys, parsed: the one place that says what a valid
principal, scope list, rotation period and key id are (the API and `wfctl` both use it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.api_errors import MalformedBodyError
from shared.api_keys.errors import (
    InvalidPrincipalError,
    InvalidRotationPeriodError,
    InvalidScopesError,
    MalformedKeyIdError,
)
from shared.scopes import MAX_SCOPES, is_valid_scope
from shared.secret_formats import KEY_ID_PATTERN

DEFAULT_ROTATE_AFTER_DAYS = 90
#: Secrets Manager's own bounds for `RotationRules.AutomaticallyAfterDays`.
MIN_ROTATE_AFTER_DAYS, MAX_ROTATE_AFTER_DAYS = 1, 1000
#: Principals end up in policies' principalId, audit lines and the request context.
PRINCIPAL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
CREATE_FIELDS = frozenset({"principal", "scopes", "rotateAfterDays"})


@dataclass(frozen=True, slots=True)
class IssueRequest:
    principal: str
    scopes: tuple[str, ...]
    rotate_after_days: int


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    api_key: str = field(repr=False)
    """The key value: in the response once, never logged (kept out of `repr` too)."""
    principal: str
    scopes: tuple[str, ...]
    rotate_after_days: int


@dataclass(frozen=True, slots=True)
class RotationStarted:
    key_id: str
    version_id: str


@dataclass(frozen=True, slots=True)
class RevokedKey:
    key_id: str
    deletion_date: datetime | None


def parse_key_id(raw: str | None) -> str:
    if raw is None or not KEY_ID_PATTERN.fullmatch(raw):
        raise MalformedKeyIdError("malformed key id in the path")
    return raw


def parse_issue_request(body: Any, default_days: int) -> IssueRequest:
    """The POST body, parsed: `{"principal": str, "scopes": [str], "rotateAfterDays"?: int}`."""
    if not isinstance(body, dict):
        raise MalformedBodyError("body is missing or not a JSON object")
    unknown = set(body) - CREATE_FIELDS
    if unknown:
        raise MalformedBodyError(f"unknown fields {sorted(unknown)[:5]!r}"[:200])
    return IssueRequest(
        parse_principal(body.get("principal")),
        parse_scopes(body.get("scopes")),
        _parse_days(body, default_days),
    )


def parse_principal(principal: object) -> str:
    if not isinstance(principal, str) or not PRINCIPAL_PATTERN.fullmatch(principal):
        raise InvalidPrincipalError("principal missing or malformed")
    return principal


def parse_scopes(scopes: object) -> tuple[str, ...]:
    """A list of known scopes (narrowed ones included), deduplicated in order."""
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise InvalidScopesError("scopes missing or not a list of strings")
    unique = tuple(dict.fromkeys(scopes))
    if len(unique) > MAX_SCOPES:
        raise InvalidScopesError(f"{len(unique)} scopes")
    if not all(is_valid_scope(scope) for scope in unique):
        raise InvalidScopesError("unknown or malformed scope")
    return unique


def _parse_days(body: Mapping[str, Any], default: int) -> int:
    days = body.get("rotateAfterDays", default)
    # bool is an int in Python; `true` is no number of days.
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidRotationPeriodError("rotateAfterDays is not an integer")
    if not MIN_ROTATE_AFTER_DAYS <= days <= MAX_ROTATE_AFTER_DAYS:
        raise InvalidRotationPeriodError(f"rotateAfterDays {days} out of bounds")
    return days
