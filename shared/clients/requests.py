"""The admin API's requests about clients, parsed: the one place that says what a valid client
id, scope list, key set and lifetime are (the API and `wfctl clients` both use it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.api_errors import MalformedBodyError
from shared.clients.authentication import jwk_problem
from shared.clients.errors import (
    InvalidClientScopesError,
    InvalidJwksError,
    InvalidLifetimeError,
    MalformedClientIdError,
    NoCredentialError,
)
from shared.clients.settings import MIN_TOKEN_LIFETIME, ClientAdminSettings
from shared.scopes import MAX_SCOPES, is_valid_scope
from shared.secret_formats import CLIENT_ID_PATTERN

CREATE_FIELDS = frozenset(
    {"clientId", "scopes", "jwks", "noSecret", "tokenLifetimeSeconds", "rotateAfterDays"}
)
MAX_KEYS = 10


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    client_id: str
    scopes: tuple[str, ...]
    jwks: dict[str, Any] | None = None
    with_secret: bool = True
    token_lifetime_seconds: int | None = None
    rotate_after_days: int = 90


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client_id: str
    client_secret: str | None = field(repr=False)
    """Shown once, in the answer; never logged (kept out of `repr`)."""
    allowed_scopes: tuple[str, ...]
    token_lifetime_seconds: int | None = None

    def as_json(self, token_endpoint: str | None) -> dict[str, Any]:
        """The one JSON object `POST /api/admin/clients` and `wfctl clients create` print."""
        out: dict[str, Any] = {"clientId": self.client_id}
        if self.client_secret is not None:
            out["clientSecret"] = self.client_secret
        out["allowedScopes"] = list(self.allowed_scopes)
        out["tokenEndpoint"] = token_endpoint
        return out


@dataclass(frozen=True, slots=True)
class ClientSummary:
    """What a listing shows: never a secret."""

    client_id: str
    allowed_scopes: tuple[str, ...]
    has_secret: bool
    key_ids: tuple[str, ...]
    token_lifetime_seconds: int | None
    revoked: bool
    created: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "allowedScopes": list(self.allowed_scopes),
            "hasSecret": self.has_secret,
            "keyIds": list(self.key_ids),
            "tokenLifetimeSeconds": self.token_lifetime_seconds,
            "revoked": self.revoked,
            "createdAt": self.created,
        }


@dataclass(frozen=True, slots=True)
class ClientRotationStarted:
    client_id: str
    version_id: str


@dataclass(frozen=True, slots=True)
class RevokedClient:
    client_id: str
    deletion_date: str | None


def parse_client_id(raw: object) -> str:
    if not isinstance(raw, str) or not CLIENT_ID_PATTERN.fullmatch(raw):
        raise MalformedClientIdError("malformed client id")
    return raw


def parse_client_scopes(scopes: object) -> tuple[str, ...]:
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes) or not scopes:
        raise InvalidClientScopesError("scopes missing or not a list of strings")
    unique = tuple(dict.fromkeys(scopes))
    if len(unique) > MAX_SCOPES or not all(is_valid_scope(scope) for scope in unique):
        raise InvalidClientScopesError("unknown or malformed scope")
    return unique


def parse_jwks(jwks: object) -> dict[str, Any]:
    """A set of public signing keys, each with a unique `kid` and fit for an allowed
    algorithm (a private key is refused: it must never be stored here)."""
    if not isinstance(jwks, dict) or set(jwks) != {"keys"} or not isinstance(jwks["keys"], list):
        raise InvalidJwksError("jwks is not {keys: [...]}")
    keys = jwks["keys"]
    if not 1 <= len(keys) <= MAX_KEYS or not all(isinstance(key, dict) for key in keys):
        raise InvalidJwksError("jwks needs 1 to 10 keys")
    kids = [key.get("kid") for key in keys]
    if not all(isinstance(kid, str) and 0 < len(kid) <= 128 for kid in kids):
        raise InvalidJwksError("every key needs a kid")
    if len(set(kids)) != len(kids):
        raise InvalidJwksError("kids must be unique")
    for key in keys:
        if jwk_problem(key) is not None:
            raise InvalidJwksError("a key is private, not for signing, or of an unknown type")
        _loadable(key)
    return {"keys": [dict(key) for key in keys]}


def _loadable(key: dict[str, Any]) -> None:
    import jwt  # noqa: PLC0415

    from shared.clients.authentication import ASSERTION_ALGORITHMS, _fits  # noqa: PLC0415

    alg = key.get("alg") or next(a for a in ASSERTION_ALGORITHMS if _fits(key, a))
    try:
        jwt.PyJWK(dict(key), algorithm=alg)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        raise InvalidJwksError("a key cannot be loaded") from None


def parse_register_request(body: Any, settings: ClientAdminSettings) -> RegisterRequest:
    """The POST body: `{"clientId", "scopes": [...], "jwks"?, "noSecret"?,
    "tokenLifetimeSeconds"?, "rotateAfterDays"?}`."""
    if not isinstance(body, dict):
        raise MalformedBodyError("body is missing or not a JSON object")
    unknown = set(body) - CREATE_FIELDS
    if unknown:
        raise MalformedBodyError(f"unknown fields {sorted(unknown)[:5]!r}"[:200])
    no_secret = body.get("noSecret", False)
    if not isinstance(no_secret, bool):
        raise MalformedBodyError("noSecret is not a boolean")
    jwks = parse_jwks(body["jwks"]) if body.get("jwks") is not None else None
    if no_secret and jwks is None:
        raise NoCredentialError("a key-only client needs jwks")
    lifetime = body.get("tokenLifetimeSeconds")
    if lifetime is not None and (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, int)
        or not MIN_TOKEN_LIFETIME <= lifetime <= settings.token_lifetime_seconds
    ):
        raise InvalidLifetimeError("tokenLifetimeSeconds out of range")
    days = body.get("rotateAfterDays", settings.rotate_after_days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 1000:
        raise MalformedBodyError("rotateAfterDays is not an integer from 1 to 1000")
    return RegisterRequest(
        client_id=parse_client_id(body.get("clientId")),
        scopes=parse_client_scopes(body.get("scopes")),
        jwks=jwks,
        with_secret=not no_secret,
        token_lifetime_seconds=lifetime,
        rotate_after_days=days,
    )
