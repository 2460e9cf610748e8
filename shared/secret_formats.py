"""The kinds of secret this project keeps in Secrets Manager, their staging labels, and the
API key format (docs/architecture.md, "Secrets"). The authorizer, the rotation function, the
admin endpoints and the operator command all read and write them through this module only.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.settings import ConfigurationError

#: Secrets Manager's staging labels (Secrets Manager user guide, "Rotation by Lambda
#: function"): the version in use, the one being rotated in, and the one rotated out.
AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

MIN_SIGNING_KEY_BYTES = 32

API_KEY_PATTERN = re.compile(r"wfk_([a-z0-9]{16})_[A-Za-z0-9_-]{43,86}")
KEY_ID_PATTERN = re.compile(r"[a-z0-9]{16}")
_KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
API_KEY_SECRET_BYTES = 32


class SecretFormatError(ValueError):
    """A SecretString does not have the shape this project writes."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One version of the HS256 signing secret: `{"kid": ..., "key": ...}`."""

    kid: str
    key: bytes


def _json_object(secret_string: str) -> dict[str, Any] | None:
    """A SecretString as the JSON object this project writes, or None when it is not one."""
    try:
        data = json.loads(secret_string)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def parse_signing_secret(secret_string: str) -> SigningKey:
    """Parse a signing secret version; a missing or short key is a configuration error."""
    data = _json_object(secret_string)
    if data is None:
        raise ConfigurationError("signing secret is not a JSON object")
    kid, key = data.get("kid"), data.get("key")
    if not isinstance(kid, str) or not kid:
        raise ConfigurationError("signing secret has no 'kid' string")
    if not isinstance(key, str):
        raise ConfigurationError("signing secret has no 'key' string")
    key_bytes = key.encode("utf-8")
    if len(key_bytes) < MIN_SIGNING_KEY_BYTES:
        raise ConfigurationError(
            f"signing key {kid!r} is shorter than {MIN_SIGNING_KEY_BYTES} bytes; rotate the secret"
        )
    return SigningKey(kid=kid, key=key_bytes)


def signing_secret_kid(secret_string: str) -> str | None:
    """The kid of a signing secret version, read without validating its key: a weak key is an
    error only when that version is needed, and exactly what a rotation must replace."""
    kid = (_json_object(secret_string) or {}).get("kid")
    return kid if isinstance(kid, str) else None


def new_signing_secret() -> str:
    """A fresh signing secret version: a random kid and 64 random URL-safe characters."""
    return json.dumps({"kid": secrets.token_hex(8), "key": secrets.token_urlsafe(48)})


def is_signing_secret(secret_string: str) -> bool:
    """Tell the two kinds of secret apart by content (the rotation function needs this)."""
    data = _json_object(secret_string)
    return (
        data is not None
        and "kid" in data
        and "key" in data
        and "api_key" not in data
        and "client_id" not in data
    )


def parse_api_key(value: str) -> str | None:
    """The key id of a well-formed API key, or None. Never touches the network."""
    found = API_KEY_PATTERN.fullmatch(value)
    return found.group(1) if found else None


def new_key_id() -> str:
    return "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))


def new_api_key(key_id: str) -> str:
    """A new key value for `key_id`: 32 random bytes, base64url without padding (43 chars)."""
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise ValueError("malformed key id")
    return f"wfk_{key_id}_{secrets.token_urlsafe(API_KEY_SECRET_BYTES)}"


def api_key_secret_name(prefix: str, key_id: str) -> str:
    return f"{prefix}{key_id}"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One version of an API key's secret."""

    api_key: str
    principal: str
    scopes: tuple[str, ...]
    revoked: bool = False

    @property
    def key_id(self) -> str:
        key_id = parse_api_key(self.api_key)
        if key_id is None:  # guarded by parse_api_key_secret; kept for type narrowing
            raise SecretFormatError("stored api_key is malformed")
        return key_id

    @classmethod
    def parse(cls, secret_string: str) -> ApiKeyRecord:
        data = _json_object(secret_string)
        if data is None:
            raise SecretFormatError("API key secret is not a JSON object")
        api_key, principal = data.get("api_key"), data.get("principal")
        scopes, revoked = data.get("scopes", []), data.get("revoked", False)
        if not isinstance(api_key, str) or parse_api_key(api_key) is None:
            raise SecretFormatError("API key secret has a malformed 'api_key'")
        if not isinstance(principal, str) or not principal:
            raise SecretFormatError("API key secret has no 'principal'")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise SecretFormatError("API key secret 'scopes' must be a list of strings")
        if not isinstance(revoked, bool):
            raise SecretFormatError("API key secret 'revoked' must be a boolean")
        return cls(api_key, principal, tuple(scopes), revoked)

    def to_secret_string(self) -> str:
        return json.dumps(
            {
                "api_key": self.api_key,
                "principal": self.principal,
                "scopes": list(self.scopes),
                "revoked": self.revoked,
            }
        )

    @classmethod
    def issue(
        cls, principal: str, scopes: Sequence[str], key_id: str | None = None
    ) -> ApiKeyRecord:
        return cls(new_api_key(key_id or new_key_id()), principal, tuple(scopes))


# --- clients of the token service (docs/token-service.md) --------------------------------------

CLIENT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{2,63}")
CLIENT_SECRET_BYTES = 32
#: A client secret is at least 32 random bytes in base64url without padding (43 characters).
CLIENT_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{43,256}")
_CLIENT_FIELDS = frozenset(
    {"client_id", "client_secret", "jwks", "allowed_scopes", "token_lifetime_seconds", "revoked"}
)


def client_secret_name(prefix: str, client_id: str) -> str:
    return f"{prefix}{client_id}"


def new_client_secret() -> str:
    """A new client secret: 32 random bytes, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(CLIENT_SECRET_BYTES)


def is_client_secret(secret_string: str) -> bool:
    """Tell a client's secret from the other kinds by content (the rotation function)."""
    data = _json_object(secret_string)
    return data is not None and "client_id" in data and "allowed_scopes" in data


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """One version of a token-service client's secret: `{"client_id", "client_secret"?,
    "jwks"?, "allowed_scopes", "token_lifetime_seconds"?, "revoked"}`."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    """Absent for key-only (private_key_jwt) clients; never logged (kept out of `repr`)."""
    jwks: dict[str, Any] | None = None
    """Public keys for private_key_jwt, `{"keys": [...]}`."""
    allowed_scopes: tuple[str, ...] = ()
    token_lifetime_seconds: int | None = None
    revoked: bool = False

    @classmethod
    def parse(cls, secret_string: str) -> ClientRecord:
        data = _json_object(secret_string)
        if data is None:
            raise SecretFormatError("client secret is not a JSON object")
        if set(data) - _CLIENT_FIELDS:
            raise SecretFormatError("client secret has unknown fields")
        client_id, secret = data.get("client_id"), data.get("client_secret")
        jwks, scopes = data.get("jwks"), data.get("allowed_scopes")
        lifetime, revoked = data.get("token_lifetime_seconds"), data.get("revoked", False)
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
            raise SecretFormatError("client secret has a malformed 'client_id'")
        if secret is not None and (
            not isinstance(secret, str) or not CLIENT_SECRET_PATTERN.fullmatch(secret)
        ):
            raise SecretFormatError("client secret has a malformed 'client_secret'")
        if jwks is not None and not (
            isinstance(jwks, dict)
            and isinstance(jwks.get("keys"), list)
            and all(isinstance(key, dict) for key in jwks["keys"])
        ):
            raise SecretFormatError("client secret 'jwks' must be {\"keys\": [...]}")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise SecretFormatError("client secret 'allowed_scopes' must be a list of strings")
        if lifetime is not None and (
            isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1
        ):
            raise SecretFormatError("client secret 'token_lifetime_seconds' must be positive")
        if not isinstance(revoked, bool):
            raise SecretFormatError("client secret 'revoked' must be a boolean")
        if secret is None and jwks is None:
            raise SecretFormatError("client secret has neither 'client_secret' nor 'jwks'")
        return cls(client_id, secret, jwks, tuple(scopes), lifetime, revoked)

    def to_secret_string(self) -> str:
        data: dict[str, Any] = {"client_id": self.client_id}
        if self.client_secret is not None:
            data["client_secret"] = self.client_secret
        if self.jwks is not None:
            data["jwks"] = self.jwks
        data["allowed_scopes"] = list(self.allowed_scopes)
        if self.token_lifetime_seconds is not None:
            data["token_lifetime_seconds"] = self.token_lifetime_seconds
        data["revoked"] = self.revoked
        return json.dumps(data)

    def identity(self) -> tuple[Any, ...]:
        """Everything but the secret: what a rotation must never change."""
        return (
            self.client_id,
            json.dumps(self.jwks, sort_keys=True),
            self.allowed_scopes,
            self.token_lifetime_seconds,
        )

    def with_new_secret(self) -> ClientRecord:
        """The same registration with a fresh client secret (a rotation's new value)."""
        return self.with_secret(new_client_secret())

    def with_secret(self, client_secret: str | None) -> ClientRecord:
        return ClientRecord(
            self.client_id,
            client_secret,
            self.jwks,
            self.allowed_scopes,
            self.token_lifetime_seconds,
            self.revoked,
        )

    def as_revoked(self) -> ClientRecord:
        return ClientRecord(
            self.client_id,
            self.client_secret,
            self.jwks,
            self.allowed_scopes,
            self.token_lifetime_seconds,
            True,
        )
