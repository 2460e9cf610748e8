"""A revocation request, parsed: `{"jti": ..., "expiresAt": ...}` or
`{"sub": ..., "scheme": "jwt" | "oauth"}`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.api_errors import InvalidRequestError
from shared.routes import Scheme
from shared.settings import AuthorizerSettings

#: `jti` and subjects: printable, no whitespace, bounded (they become DynamoDB keys).
IDENTIFIER = re.compile(r"[\x21-\x7e]{1,256}")
#: The schemes whose subjects can be revoked (an API key is revoked by revoking the key).
TOKEN_SCHEMES = frozenset({Scheme.JWT.value, Scheme.OAUTH.value})

JTI_FIELDS = frozenset({"jti", "expiresAt"})
SUBJECT_FIELDS = frozenset({"sub", "scheme"})


class InvalidRevocationError(InvalidRequestError):
    """The revocation request is not `{"jti", "expiresAt"?}` or `{"sub", "scheme"}`, or asks
    for an expiry beyond the longest a token the authorizer accepts can have."""

    code = "invalid_revocation"
    message = (
        'Send {"jti": "<token id>", "expiresAt": <the token\'s exp>} or '
        '{"sub": "<subject>", "scheme": "jwt" | "oauth"}.'
    )


@dataclass(frozen=True, slots=True)
class RevocationRequest:
    kind: str  # "jti" | "sub"
    value: str
    expires_at: int
    """The token's `exp` (a subject's: the latest `exp` a token issued before now can have)."""
    scheme: str | None = None
    """For a subject: the scheme whose subject it is (the issuer is that scheme's)."""


def parse_request(body: object, settings: AuthorizerSettings, now: float) -> RevocationRequest:
    """Validate a request body against the authorizer's own token rules.

    A token the authorizer accepts expires at most `longest_token_lifetime_seconds` from now
    (and passes until its `exp` plus the skew, which the store adds). An
    `expiresAt` beyond that bound cannot be the `exp` of a token the authorizer accepts: it is
    refused (400), never stored as a shorter revocation that would lapse while its token lives.
    """
    if not isinstance(body, dict):
        raise InvalidRevocationError("body must be a JSON object")
    skew = settings.clock_skew_seconds
    longest = int(now) + settings.longest_token_lifetime_seconds
    if "jti" in body and set(body) <= JTI_FIELDS:
        jti = body["jti"]
        expires = body.get("expiresAt", longest)
        if not isinstance(jti, str) or not IDENTIFIER.fullmatch(jti):
            raise InvalidRevocationError("malformed jti")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= now - skew:
            raise InvalidRevocationError("expiresAt must be the token's exp, not in the past")
        if expires > longest:
            raise InvalidRevocationError("expiresAt beyond the longest accepted token lifetime")
        return RevocationRequest("jti", jti, expires)
    if "sub" in body and set(body) == SUBJECT_FIELDS:
        sub, scheme = body["sub"], body["scheme"]
        if not isinstance(sub, str) or not IDENTIFIER.fullmatch(sub):
            raise InvalidRevocationError("malformed sub")
        if not isinstance(scheme, str) or scheme not in TOKEN_SCHEMES:
            raise InvalidRevocationError("scheme must be jwt or oauth")
        return RevocationRequest("sub", sub, longest, scheme=scheme)
    raise InvalidRevocationError("exactly one of jti and sub, with their own fields")
