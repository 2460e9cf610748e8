"""Token hygiene shared by both JWT paths, applied before any key is looked up (RFC 8725).

PyJWT does the verifying. What it lacks, done here: a size cap before decoding, strict
base64url segments (`shared.jws`, shared with the token service and DPoP), `crit` refusal, and
the unverified header and payload the registry (`schemes.py`) selects a verifier by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from authorizer.errors import CredentialError
from shared.jws import SegmentError, is_numeric_date, json_segment, split_compact

MAX_TOKEN_LENGTH = 8192

#: Internal service tokens: HS256 only.
SERVICE_ALGORITHMS: tuple[str, ...] = ("HS256",)
#: External OAuth access tokens: asymmetric algorithms only, so that a published public key
#: can never serve as an HMAC secret (RFC 8725 section 3.1: one algorithm per key).
OAUTH_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
)  # fmt: skip
#: `crit` extensions we understand (RFC 7515 section 4.1.11): none.
UNDERSTOOD_CRITICAL: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A JWT split and parsed, nothing verified yet. Never trust `payload` for a decision
    other than choosing the verification path."""

    raw: str
    header: dict[str, Any]
    payload: dict[str, Any]

    @property
    def alg(self) -> str:
        alg = self.header.get("alg")
        return alg if isinstance(alg, str) else ""

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def parse_unverified(token: str) -> UnverifiedToken:
    if len(token) > MAX_TOKEN_LENGTH:
        raise CredentialError("oversized")
    try:
        head, body, _ = split_compact(token)
        # json_segment keeps the last of duplicate members (RFC 7519 section 4), as PyJWT does.
        header, payload = json_segment(head), json_segment(body)
    except SegmentError:
        raise CredentialError("malformed") from None
    if "crit" in header:
        critical = header["crit"]
        if not isinstance(critical, list) or not critical:
            raise CredentialError("malformed")
        if any(name not in UNDERSTOOD_CRITICAL for name in critical):
            raise CredentialError("unsupported_crit")
    if "kid" in header and not isinstance(header["kid"], str):
        raise CredentialError("malformed")
    for claim in NUMERIC_DATE_CLAIMS:
        if claim in payload and not is_numeric_date(payload[claim]):
            raise CredentialError("malformed")
    return UnverifiedToken(token, header, payload)


#: RFC 7519 NumericDate claims: integers or floats. Checked before PyJWT sees them because it
#: coerces with int(): "123" would pass as a number and 1e400 (JSON allows it) overflows.
NUMERIC_DATE_CLAIMS: tuple[str, ...] = ("exp", "nbf", "iat")


#: PyJWT's exceptions mapped to our stable reason codes (most specific first).
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "bad_algorithm"),
    (jwt.InvalidKeyError, "key_mismatch"),
)


def reason_for(error: jwt.PyJWTError) -> str:
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "malformed"
