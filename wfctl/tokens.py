"""Minting internal service tokens (`jwt` scheme), signed with the current signing secret."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from shared.scopes import is_valid_scope
from shared.secret_formats import parse_signing_secret

#: The authorizer's default `JWT_MAX_LIFETIME_SECONDS`; longer tokens would be refused anyway.
DEFAULT_MAX_LIFETIME = 3600


class TokenRequestError(ValueError):
    """The requested token would be unusable or unsafe (bad scope, lifetime, subject)."""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    subject: str
    scopes: Sequence[str]
    lifetime_seconds: int = 900
    issuer: str | None = None
    audience: str | None = None
    max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME

    def check(self) -> None:
        if not self.subject or len(self.subject) > 256:
            raise TokenRequestError("subject must be 1 to 256 characters")
        for scope in self.scopes:
            if not is_valid_scope(scope):
                raise TokenRequestError(f"unknown or malformed scope {scope!r}")
        if not 1 <= self.lifetime_seconds <= self.max_lifetime_seconds:
            raise TokenRequestError(
                f"lifetime must be between 1 and {self.max_lifetime_seconds} seconds"
            )


def mint_token(secret_string: str, request: TokenRequest, now: float | None = None) -> str:
    """An HS256 token with `kid`, `sub`, `iat`, `exp`, `jti`, `scope` (and `iss`/`aud`)."""
    request.check()
    key = parse_signing_secret(secret_string)  # refuses keys under 32 bytes
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": request.subject,
        "iat": issued,
        "exp": issued + request.lifetime_seconds,
        "jti": secrets.token_urlsafe(16),
        "scope": " ".join(request.scopes),
    }
    if request.issuer:
        claims["iss"] = request.issuer
    if request.audience:
        claims["aud"] = request.audience
    return jwt.encode(claims, key.key, algorithm="HS256", headers={"kid": key.kid})


def current_signing_secret(client: Any, secret_id: str) -> str:
    response = client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    value = response.get("SecretString")
    if not isinstance(value, str):
        raise TokenRequestError("the signing secret has no SecretString")
    return value
