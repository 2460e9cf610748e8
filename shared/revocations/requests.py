"""A revocation request, parsed: `{"jti": ..., "expiresAt": ...}` or `{"sub": ...}`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.api_errors import InvalidRequestError
from shared.settings import SecuritySettings

#: `jti` and subjects: printable, no whitespace, bounded (they become DynamoDB keys).
IDENTIFIER = re.compile(r"[\x21-\x7e]{1,256}")


class InvalidRevocationError(InvalidRequestError):
    """The revocation request is not `{"jti": ..., "expiresAt": ...}` or `{"sub": ...}`."""

    code = "invalid_revocation"
    message = 'Send {"jti": "<token id>", "expiresAt": <unix seconds>} or {"sub": "<subject>"}.'


@dataclass(frozen=True, slots=True)
class RevocationRequest:
    kind: str  # "jti" | "sub"
    value: str
    expires_at: int


def parse_request(body: object, settings: SecuritySettings, now: float) -> RevocationRequest:
    """Validate a request body; `expiresAt` of a jti revocation is the token's `exp`."""
    if not isinstance(body, dict) or len(body) > 2:
        raise InvalidRevocationError("body must be a small JSON object")
    longest = int(now) + settings.revocation_max_seconds
    jti, sub = body.get("jti"), body.get("sub")
    if (jti is None) == (sub is None) or set(body) - {"jti", "sub", "expiresAt"}:
        raise InvalidRevocationError("exactly one of jti and sub")
    if jti is not None:
        expires = body.get("expiresAt", longest)
        if not isinstance(jti, str) or not IDENTIFIER.fullmatch(jti):
            raise InvalidRevocationError("malformed jti")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= now:
            raise InvalidRevocationError("expiresAt must be a future unix time")
        return RevocationRequest("jti", jti, min(expires, longest))
    if "expiresAt" in body or not isinstance(sub, str) or not IDENTIFIER.fullmatch(sub):
        raise InvalidRevocationError("malformed sub")
    return RevocationRequest("sub", sub, longest)
