"""DPoP proofs (RFC 9449): verifying one, and the key thumbprint a bound token names
(docs/security.md, "Sender-constrained tokens").

The one verifier of proofs, used by the authorizer (a proof with every request to a bound
token) and by the token service (a proof with the token request binds the token it issues).
Order, cheapest and least trusting first (RFC 9449 section 4.3, RFC 8725):

1. size (at most `MAX_PROOF_LENGTH`) and shape: a compact JWS of strict base64url segments,
   each a JSON object without duplicate member names;
2. header: `typ` exactly `dpop+jwt`, `alg` from the constant allow-list `DPOP_ALGORITHMS`
   (never from the token: `none` and HS* are not in it), no `crit`, and `jwk` a public key whose
   `kty`/`crv` fit `alg`, without any private member;
3. the signature, by PyJWT with that key and exactly that one algorithm;
4. the claims: `jti` a string of 1 to `MAX_JTI_LENGTH` characters, `htm` the request method,
   `htu` the request URL (`same_url`), `iat` a number within the window, and `ath` the hash of
   the access token when the proof goes with one.

Each failure raises `DpopProofError` with its own stable reason code for the audit. Whether
the proof's `jti` was seen before is the caller's to check, after its own verification, with
`VerifiedProof.keep_until` (`shared.security_table.dpop_jti_key`).

PyJWT (and cryptography) is imported on first use, as in the other modules of the layer that
verify signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.jws import (
    PRIVATE_MEMBERS,
    SegmentError,
    is_numeric_date,
    json_segment,
    key_fits,
    split_compact,
)

#: The algorithms a proof may be signed with (asymmetric only: the verifier has no shared key).
DPOP_ALGORITHMS: tuple[str, ...] = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
#: The proof's `typ` header, compared exactly (RFC 9449 section 4.2).
DPOP_TYPE = "dpop+jwt"
#: Longest proof read at all, like every other token here.
MAX_PROOF_LENGTH = 8192
#: Longest `jti` accepted. RFC 9449 asks for at least 96 random bits (16 base64url characters);
#: 256 leaves room for any encoding of that, while every accepted `jti` costs one stored item.
MAX_JTI_LENGTH = 256
#: Smallest RSA modulus accepted in a proof key (RFC 7518 section 3.3 requires 2048 bits).
MIN_RSA_BITS = 2048
#: The members of each key type a JWK thumbprint is computed over (RFC 7638 section 3.2).
THUMBPRINT_MEMBERS: dict[str, tuple[str, ...]] = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
_DEFAULT_PORTS = {"https": 443, "http": 80}


class DpopProofError(ValueError):
    """A DPoP proof is malformed, forged, stale, or not for this request; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    jti: str
    jkt: str
    """The RFC 7638 SHA-256 thumbprint of the proof's key: what a bound token's `cnf.jkt` is."""
    issued_at: float
    keep_until: int
    """Until when the `jti` must be remembered: past it, the proof is refused as stale anyway."""


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str,
    now: float,
    max_age: int,
    skew: int,
    access_token: str | None = None,
) -> VerifiedProof:
    """Verify `proof` for a request of `method` to `url`; with `access_token`, also `ath`."""
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_LENGTH:
        raise DpopProofError("dpop_oversized")
    try:
        head, body, _ = split_compact(proof)
        header, claims = json_segment(head, unique=True), json_segment(body, unique=True)
    except SegmentError:
        raise DpopProofError("dpop_malformed") from None
    alg, jwk = _check_header(header)
    _check_signature(proof, jwk, alg)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= MAX_JTI_LENGTH:
        raise DpopProofError("dpop_bad_jti")
    if claims.get("htm") != method:
        raise DpopProofError("dpop_wrong_method")
    htu = claims.get("htu")
    if not isinstance(htu, str) or not same_url(htu, url):
        raise DpopProofError("dpop_wrong_url")
    issued = claims.get("iat")
    if not is_numeric_date(issued):
        raise DpopProofError("dpop_bad_iat")
    if now - issued > max_age:
        raise DpopProofError("dpop_stale")
    if issued - now > skew:
        raise DpopProofError("dpop_future")
    if access_token is not None:
        ath = claims.get("ath")
        expected = access_token_hash(access_token)
        if not isinstance(ath, str) or not hmac.compare_digest(ath.encode(), expected.encode()):
            raise DpopProofError("dpop_bad_ath")
    return VerifiedProof(jti, thumbprint(jwk), float(issued), math.ceil(issued) + max_age + skew)


def _check_header(header: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if header.get("typ") != DPOP_TYPE:
        raise DpopProofError("dpop_bad_typ")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in DPOP_ALGORITHMS:
        raise DpopProofError("dpop_bad_alg")
    if "crit" in header:  # no extension is understood (RFC 7515 section 4.1.11)
        raise DpopProofError("dpop_unsupported_crit")
    if "b64" in header:  # RFC 7797's unencoded payload: never what a proof is
        raise DpopProofError("dpop_malformed")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or PRIVATE_MEMBERS & set(jwk) or not key_fits(jwk, alg):
        raise DpopProofError("dpop_bad_key")
    if jwk.get("alg") not in (None, alg) or jwk.get("use") not in (None, "sig"):
        raise DpopProofError("dpop_bad_key")
    members = THUMBPRINT_MEMBERS[jwk["kty"]]
    if not all(isinstance(jwk.get(name), str) for name in members):
        raise DpopProofError("dpop_bad_key")
    return alg, jwk


def _check_signature(proof: str, jwk: dict[str, Any], alg: str) -> None:
    import jwt  # noqa: PLC0415 - see the module docstring

    try:
        key = jwt.PyJWK(jwk, algorithm=alg).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise DpopProofError("dpop_bad_key") from None
    size = getattr(key, "key_size", None)
    if jwk["kty"] == "RSA" and (not isinstance(size, int) or size < MIN_RSA_BITS):
        raise DpopProofError("dpop_bad_key")
    try:
        # The signature only: the claims are checked above with our own clock and rules.
        jwt.PyJWS().decode_complete(proof, key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        raise DpopProofError("dpop_bad_signature") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise DpopProofError("dpop_malformed") from None


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding: its required
    members only, sorted, without whitespace."""
    members = THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(access_token: str) -> str:
    """`ath`: base64url(SHA-256(the ASCII access token)) (RFC 9449 section 4.2)."""
    return _b64url(hashlib.sha256(access_token.encode("utf-8", "surrogatepass")).digest())


def same_url(htu: str, expected: str) -> bool:
    """Whether a proof's `htu` names `expected` (RFC 9449 section 4.3, RFC 3986 section 6):
    query and fragment ignored, scheme and host compared case-insensitively, default ports
    ignored; the path compared exactly."""
    proof, wanted = normalise_url(htu), normalise_url(expected)
    return proof is not None and proof == wanted


def normalise_url(url: str) -> tuple[str, str, str] | None:
    """`(scheme, host[:port], path)` of an http(s) URL, or None for anything else (no host,
    a bad port, user information)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return scheme, netloc, parts.path or "/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
