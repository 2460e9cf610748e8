"""Who is calling, as the authorizer told API Gateway (`requestContext.authorizer`).

Functions never re-verify a credential: API Gateway only invokes them after the authorizer's
policy allowed the call, and passes the authorizer's `principalId` and `context` along.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.scopes import Grants


class MissingCallerError(RuntimeError):
    """The event has no authorizer context: the function was invoked without the authorizer."""


@dataclass(frozen=True, slots=True)
class Caller:
    principal: str
    scheme: str
    scopes: tuple[str, ...]
    client_id: str | None = None
    key_id: str | None = None

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
        return cls(
            principal=principal,
            scheme=scheme,
            scopes=tuple(str(scopes).split()),
            client_id=client_id if isinstance(client_id, str) else None,
            key_id=key_id if isinstance(key_id, str) else None,
        )
