"""Who is calling, as the authorizer told API Gateway (`requestContext.authorizer`).

Functions never re-verify a credential: API Gateway only invokes them after the authorizer's
policy allowed the call, and passes the authorizer's `principalId` and `context` along.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.routes import Scheme
from shared.scopes import Grants, ScopeClaimError, split_scopes

#: Schemes whose credentials expire: their context must say when.
TOKEN_SCHEMES = frozenset({Scheme.JWT.value, Scheme.OAUTH.value})


class MissingCallerError(RuntimeError):
    """The event has no authorizer context: the function was invoked without the authorizer."""


@dataclass(frozen=True, slots=True)
class Caller:
    principal: str
    scheme: str
    scopes: tuple[str, ...]
    client_id: str | None = None
    key_id: str | None = None
    expires_at: float | None = None
    """When the credential expires (Unix seconds), for tokens; API keys do not expire."""

    def expired(self, now: float, skew_seconds: float) -> bool:
        """Whether the credential has expired, with the skew the authorizer allows too.

        API Gateway reuses a cached policy for its TTL, so a token may reach a handler after its
        `exp`: the handler, not the policy, must refuse it.
        """
        return self.expires_at is not None and now > self.expires_at + skew_seconds

    @property
    def grants(self) -> Grants:
        return Grants.from_scopes(self.scopes)

    def as_claims(self) -> dict[str, Any]:
        """The caller's identity as JSON-safe data (what echo endpoints return)."""
        claims: dict[str, Any] = {
            "principal": self.principal,
            "scheme": self.scheme,
            "scopes": list(self.scopes),
        }
        if self.client_id:
            claims["client_id"] = self.client_id
        if self.key_id:
            claims["key_id"] = self.key_id
        return claims

    @classmethod
    def from_authorizer_context(cls, authorizer: Mapping[str, Any] | None) -> Caller:
        """Build from `event["requestContext"]["authorizer"]` (principalId plus context keys)."""
        if not authorizer:
            raise MissingCallerError("no authorizer context in the event")
        principal = authorizer.get("principal") or authorizer.get("principalId")
        scheme = authorizer.get("scheme")
        if not isinstance(principal, str) or not principal or not isinstance(scheme, str):
            raise MissingCallerError("authorizer context lacks principal or scheme")
        scopes = authorizer.get("scopes") or ""
        client_id = authorizer.get("client_id")
        key_id = authorizer.get("key_id")
        try:
            # The authorizer's own parser wrote this; anything else was not the authorizer.
            granted = tuple(split_scopes(str(scopes)))
        except ScopeClaimError:
            raise MissingCallerError("authorizer context has malformed scopes") from None
        expires_at = _unix_seconds(authorizer.get("expires_at"))
        if expires_at is None and scheme in TOKEN_SCHEMES:
            # The authorizer always says when a token expires; a context without it was not
            # written by the authorizer, and a token nobody can check is not accepted.
            raise MissingCallerError("authorizer context of a token lacks expires_at")
        return cls(
            principal=principal,
            scheme=scheme,
            scopes=granted,
            client_id=client_id if isinstance(client_id, str) else None,
            key_id=key_id if isinstance(key_id, str) else None,
            expires_at=expires_at,
        )


def _unix_seconds(value: object) -> float | None:
    """`expires_at` as the authorizer set it: a number, or (through API Gateway, which passes
    context values on as strings) its decimal text. Anything else reads as absent."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None
