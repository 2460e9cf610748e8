"""What a client is granted and the token it gets (docs/token-service.md, "Issued tokens").

The granted scopes never exceed the client's registration: a requested scope must be a known
scope (narrowed ones included) that the client's `allowed_scopes` grant; no `scope` means all
of them. The token is HS256 with the AWSCURRENT signing key and its `kid`, bound to
`JWT_ISSUER` and `JWT_AUDIENCE`, with a `jti` of 192 random bits; bound to a DPoP key
(`cnf.jkt`) when the request proved one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.clients.errors import InvalidScopeError
from shared.scopes import KNOWN_SCOPES, MAX_SCOPES, Grants, is_valid_scope
from shared.secret_formats import ClientRecord, SigningKey

#: RFC 6749 section 3.3: `scope = scope-token *( SP scope-token )`,
#: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. Nothing else (tabs, non-ASCII, doubled
#: spaces) is split some other way.
SCOPE_PARAMETER = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*")
MAX_SCOPE_LENGTH = 4096
#: 24 random bytes (192 bits) in base64url.
JTI_BYTES = 24


def grant_scopes(requested: str | None, allowed: Sequence[str]) -> tuple[str, ...]:
    """The scopes to grant: all of `allowed` when none are requested, else the requested ones,
    each of which `allowed` must cover."""
    if requested is None:
        return tuple(dict.fromkeys(allowed))
    if len(requested) > MAX_SCOPE_LENGTH or not SCOPE_PARAMETER.fullmatch(requested):
        raise InvalidScopeError("malformed_scope")
    wanted = tuple(dict.fromkeys(requested.split(" ")))
    if len(wanted) > MAX_SCOPES:
        raise InvalidScopeError("too_many_scopes")
    grants = Grants.from_scopes(allowed)
    for scope in wanted:
        if not is_valid_scope(scope) or not _covered(scope, grants, allowed):
            raise InvalidScopeError("scope_not_allowed")
    return wanted


def _covered(scope: str, grants: Grants, allowed: Sequence[str]) -> bool:
    if scope in allowed:
        return True
    if scope in KNOWN_SCOPES:  # workflow:read under workflow:admin
        return grants.allows(scope)
    # A narrowed scope (is_valid_scope checked its shape): covered by its unqualified one.
    base, _, workflow_id = scope.rpartition(":")
    return grants.allows(base, workflow_id)


def lifetime_for(client: ClientRecord, default: int) -> int:
    """The client's own lifetime when shorter, else the service's."""
    own = client.token_lifetime_seconds
    return default if own is None else min(own, default)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str = field(repr=False)
    """The token: in the answer once, never logged (kept out of `repr`)."""
    jti: str
    client_id: str
    scopes: tuple[str, ...]
    expires_in: int
    kid: str
    jkt: str | None = None
    """The DPoP key the token is bound to (`cnf.jkt`, RFC 9449 section 6.1), if any."""

    def as_response(self) -> dict[str, object]:
        """RFC 6749 section 5.1's answer; a bound token's type is `DPoP` (RFC 9449 section 5)."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer" if self.jkt is None else "DPoP",
            "expires_in": self.expires_in,
            "scope": " ".join(self.scopes),
        }


def mint(
    key: SigningKey,
    client_id: str,
    scopes: Sequence[str],
    *,
    issuer: str,
    audience: str,
    lifetime: int,
    now: float,
    jkt: str | None = None,
) -> IssuedToken:
    import jwt  # noqa: PLC0415 - PyJWT loads cryptography: only the token function needs it

    issued_at = int(now)
    jti = secrets.token_urlsafe(JTI_BYTES)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": client_id,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "jti": jti,
        "iat": issued_at,
        "exp": issued_at + lifetime,
    }
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    token = jwt.encode(claims, key.key, algorithm="HS256", headers={"kid": key.kid})
    return IssuedToken(token, jti, client_id, tuple(scopes), lifetime, key.kid, jkt)
