"""Client authentication (RFC 6749 section 2.3): a client secret compared in constant time, or
a private_key_jwt assertion (RFC 7523 section 3, OIDC Core section 9) verified against the
client's registered public keys.

An assertion is verified in a fixed order (RFC 8725): shape and size, header (`alg` from the
constant allow-list, `kid` required, no `crit`), the key chosen by `kid` among the client's
registered keys (never `jku`, `x5u`, `jwk` or `x5c`), the key's type fitting the algorithm,
the signature, then the claims. Only then is its `jti` spent (by the caller, in the security
table), so a forged assertion cannot burn a real one's `jti`.

PyJWT (and its cryptography backend) is imported on first use: the admin functions, which share
this package, never need it.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from shared.clients.errors import InvalidClientError
from shared.jws import PRIVATE_MEMBERS, SEGMENT, is_numeric_date, key_fits
from shared.secret_formats import ClientRecord

#: Asymmetric algorithms only: an HS256 assertion would be signed with a shared secret, and
#: `none` is no signature at all.
ASSERTION_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
)  # fmt: skip
MAX_ASSERTION_LENGTH = 8192
#: An assertion's `exp` lies at most this far ahead (a short-lived, single-use credential).
MAX_ASSERTION_LIFETIME = 300
MAX_JTI_LENGTH = 256
#: Compared against when a client has no secret, so that the comparison costs the same.
_NO_SECRET = b"\x00" * 43


def secret_matches(presented: str, record: ClientRecord) -> bool:
    """Constant-time comparison of a presented secret with the record's (False when the client
    has none)."""
    expected = record.client_secret.encode("utf-8") if record.client_secret else _NO_SECRET
    equal = hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected)
    return equal and record.client_secret is not None


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    client_id: str
    jti: str
    expires_at: float


def assertion_issuer(assertion: str) -> str:
    """The unverified `iss` of an assertion: it only names the client whose keys to try."""
    import jwt  # noqa: PLC0415 - see the module docstring

    _shape(assertion)
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidClientError("malformed_assertion") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidClientError("malformed_assertion")
    return issuer


def verify_assertion(
    assertion: str,
    client: ClientRecord,
    audiences: Collection[str],
    *,
    now: float,
    leeway: int,
) -> VerifiedAssertion:
    """Verify a client assertion with the client's registered keys; its claims' rules."""
    import jwt  # noqa: PLC0415 - see the module docstring

    _shape(assertion)
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise InvalidClientError("malformed_assertion") from None
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in ASSERTION_ALGORITHMS:
        raise InvalidClientError("assertion_bad_algorithm")
    if "crit" in header:
        raise InvalidClientError("assertion_unsupported_crit")
    if not isinstance(kid, str) or not kid:
        raise InvalidClientError("assertion_no_kid")
    key = _key_for(client, kid, alg)
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=[alg],
            audience=list(audiences),
            issuer=client.client_id,
            leeway=leeway,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidClientError("assertion_expired") from None
    except jwt.InvalidAudienceError:
        raise InvalidClientError("assertion_wrong_audience") from None
    except jwt.InvalidSignatureError:
        raise InvalidClientError("assertion_bad_signature") from None
    except jwt.PyJWTError:
        raise InvalidClientError("assertion_invalid") from None
    if claims["sub"] != client.client_id:
        raise InvalidClientError("assertion_wrong_subject")
    exp, jti = claims["exp"], claims["jti"]
    if not is_numeric_date(exp):
        raise InvalidClientError("assertion_invalid")
    if exp > now + MAX_ASSERTION_LIFETIME + leeway:
        raise InvalidClientError("assertion_lifetime_too_long")
    if not isinstance(jti, str) or not 1 <= len(jti) <= MAX_JTI_LENGTH:
        raise InvalidClientError("assertion_invalid")
    return VerifiedAssertion(client.client_id, jti, float(exp))


def _shape(assertion: str) -> None:
    if len(assertion) > MAX_ASSERTION_LENGTH:
        raise InvalidClientError("assertion_oversized")
    parts = assertion.split(".")
    if len(parts) != 3 or not all(SEGMENT.fullmatch(part) for part in parts):
        raise InvalidClientError("malformed_assertion")


def _key_for(client: ClientRecord, kid: str, alg: str) -> Any:
    """The client's registered key with `kid`, if it may verify `alg`."""
    keys = (client.jwks or {}).get("keys") or []
    jwk = next((k for k in keys if isinstance(k, Mapping) and k.get("kid") == kid), None)
    if jwk is None:
        raise InvalidClientError("assertion_unknown_kid")
    reason = jwk_problem(jwk, alg)
    if reason is not None:
        raise InvalidClientError(reason)
    import jwt  # noqa: PLC0415 - see the module docstring

    try:
        return jwt.PyJWK(dict(jwk), algorithm=alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        raise InvalidClientError("assertion_key_mismatch") from None


def jwk_problem(jwk: Mapping[str, Any], alg: str | None = None) -> str | None:
    """Why a registered key cannot verify `alg` (or any allowed algorithm), or None."""
    if PRIVATE_MEMBERS & set(jwk):
        return "assertion_key_not_public"
    if jwk.get("use") not in (None, "sig"):
        return "assertion_key_not_for_signing"
    key_alg = jwk.get("alg")
    if alg is None:
        if key_alg is not None and key_alg not in ASSERTION_ALGORITHMS:
            return "assertion_key_mismatch"
        fits = [a for a in ASSERTION_ALGORITHMS if _fits(jwk, a)]
        return None if fits else "assertion_key_mismatch"
    if key_alg is not None and key_alg != alg:
        return "assertion_key_mismatch"
    return None if _fits(jwk, alg) else "assertion_key_mismatch"


def _fits(jwk: Mapping[str, Any], alg: str) -> bool:
    return key_fits(jwk, alg)
