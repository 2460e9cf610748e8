"""Scope rules (docs/security.md, "Scopes"): parsing the claims and deciding what they grant."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

READ = "workflow:read"
TRIGGER = "workflow:trigger"
ADMIN = "workflow:admin"
KNOWN_SCOPES: tuple[str, ...] = (READ, TRIGGER, ADMIN)

#: Scopes that may be narrowed to one workflow (`workflow:read:<id>`); admin never is.
NARROWABLE: tuple[str, ...] = (READ, TRIGGER)
WORKFLOW_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: What each unqualified scope implies.
_IMPLIES: dict[str, frozenset[str]] = {
    READ: frozenset({READ}),
    TRIGGER: frozenset({TRIGGER}),
    ADMIN: frozenset({READ, TRIGGER, ADMIN}),
}

#: How many scopes an API key may be issued with (an admin input bound). Tokens carry any number:
#: their 8 KiB size cap is the bound, and policies compact narrowed scopes to stay small.
MAX_SCOPES = 64

#: One scope token, RFC 6749 section 3.3: `1*( %x21 / %x23-5B / %x5D-7E )`, printable ASCII
#: without space, `"` and `\`.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class ScopeClaimError(ValueError):
    """The `scope` / `scp` claim has a type or a character the scope grammar does not allow."""


def split_scopes(value: str) -> list[str]:
    """The scope tokens of a space-separated scope string (RFC 6749 section 3.3).

    Tokens are separated by U+0020 only; repeated, leading and trailing spaces are ignored. Any
    other character outside the grammar (a tab, a newline, U+00A0, U+3000, anything non-ASCII)
    makes the whole string malformed: it is never split some other way, so
    `workflow:read\u3000workflow:admin` can never grant `workflow:admin`.
    """
    tokens = [token for token in value.split(" ") if token]
    if not all(SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise ScopeClaimError("scope outside the RFC 6749 grammar")
    return tokens


def parse_scope_claims(scope: object = None, scp: object = None) -> tuple[str, ...]:
    """The scopes carried by a token: `scope` (space-separated string) and `scp` (array or string).

    Order is kept and duplicates dropped. Any other claim type, and any string outside the
    scope grammar, makes the token malformed.
    """
    found: list[str] = []
    if scope is not None:
        if not isinstance(scope, str):
            raise ScopeClaimError("scope claim must be a string")
        found.extend(split_scopes(scope))
    if scp is not None:
        if isinstance(scp, str):
            found.extend(split_scopes(scp))
        elif isinstance(scp, list) and all(isinstance(item, str) for item in scp):
            for item in scp:
                found.extend(split_scopes(item))
        else:
            raise ScopeClaimError("scp claim must be a string or an array of strings")
    return tuple(dict.fromkeys(found))


def is_valid_scope(scope: str) -> bool:
    """True for a known scope or a well-formed narrowed one (what an API key may be issued)."""
    if scope in KNOWN_SCOPES:
        return True
    base, _, workflow_id = scope.rpartition(":")
    return base in NARROWABLE and WORKFLOW_ID.fullmatch(workflow_id) is not None


@dataclass(frozen=True, slots=True)
class Grants:
    """What a set of scopes allows: unqualified actions, and actions narrowed to workflows."""

    actions: frozenset[str] = frozenset()
    narrowed: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_scopes(cls, scopes: Iterable[str]) -> Grants:
        actions: set[str] = set()
        narrowed: dict[str, set[str]] = {}
        for scope in scopes:
            if scope in _IMPLIES:
                actions |= _IMPLIES[scope]
                continue
            base, _, workflow_id = scope.rpartition(":")
            # Anything else (unknown scopes, `workflow:admin:<id>`, bad ids) grants nothing.
            if base in NARROWABLE and WORKFLOW_ID.fullmatch(workflow_id):
                narrowed.setdefault(base, set()).add(workflow_id)
        return cls(
            frozenset(actions),
            {
                action: frozenset(ids)
                for action, ids in narrowed.items()
                if action not in actions  # the unqualified scope already covers every workflow
            },
        )

    def allows(self, action: str, workflow_id: str | None = None) -> bool:
        """Whether `action` is granted on every workflow, or on `workflow_id` when given."""
        if action in self.actions:
            return True
        return workflow_id is not None and workflow_id in self.narrowed.get(action, ())

    def workflows(self, action: str) -> frozenset[str]:
        """Workflows on which `action` is granted only by narrowed scopes."""
        return self.narrowed.get(action, frozenset())
