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
from dataclasses import dataclass
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
    return data is not None and "kid" in data and "key" in data and "api_key" not in data


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
