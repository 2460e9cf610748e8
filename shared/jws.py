"""Compact-JWS hygiene shared by every JWT or JWS the project reads (RFC 7515, RFC 8725): the
authorizer's bearer tokens, the token service's client assertions and DPoP proofs.

PyJWT verifies signatures. What it lacks, done here by hand: strict base64url segments
(Python's decoder silently skips foreign characters), a JSON-object check on each segment, and,
where a rule wants it, refusal of duplicate member names; and the tables of which JWK fits which
algorithm and which JWK members only a private key has.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

#: One base64url segment without padding (RFC 7515 section 2, "Base64url Encoding").
SEGMENT = re.compile(r"[A-Za-z0-9_-]+")

#: What key each asymmetric algorithm needs: JWK `kty` and, for curves, the allowed `crv`.
KEY_TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), ("RSA", None)),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
#: JWK members that only a private (or symmetric) key has (RFC 7518 sections 6.2.2, 6.3.2, 6.4).
PRIVATE_MEMBERS: frozenset[str] = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: Largest NumericDate magnitude accepted (about the year 2286 in seconds, RFC 7519 section 2):
#: every date a verifier compares is far inside it, and every number under it is exact as a float.
MAX_NUMERIC_DATE = 10**13


class SegmentError(ValueError):
    """A compact serialisation or one of its segments is not what RFC 7515 allows."""


def split_compact(value: str) -> tuple[str, str, str]:
    """The three segments of a compact JWS, each strict base64url."""
    parts = value.split(".")
    if len(parts) != 3 or not all(SEGMENT.fullmatch(part) for part in parts):
        raise SegmentError("not a compact JWS")
    return parts[0], parts[1], parts[2]


def decode_segment(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise SegmentError("not base64url") from None


def json_segment(segment: str, *, unique: bool = False) -> dict[str, Any]:
    """A segment's JSON object. Duplicate member names are resolved last-wins (RFC 7519
    section 4, as PyJWT does), or refused when `unique` (RFC 7515 section 5.2 allows either)."""
    decoded = decode_segment(segment)
    try:
        value = json.loads(decoded, object_pairs_hook=_unique_object if unique else None)
    except (ValueError, RecursionError):
        raise SegmentError("not JSON") from None
    if not isinstance(value, dict):
        raise SegmentError("not a JSON object")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate member name")
    return found


def is_numeric_date(value: object) -> TypeGuard[int | float]:
    """Whether a claim is an RFC 7519 NumericDate a clock can be compared with: an int or a
    float (never a bool), finite and under `MAX_NUMERIC_DATE` in magnitude. JSON allows
    integers of any length, and `math.isfinite` or arithmetic with a float raises OverflowError
    on one too large for a float (`10**400`), so the bound is compared first, exactly."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return -MAX_NUMERIC_DATE < value < MAX_NUMERIC_DATE  # False for NaN and the infinities


def key_fits(jwk: Mapping[str, Any], alg: str) -> bool:
    """Whether a JWK's `kty` (and `crv`) fit an asymmetric algorithm."""
    fit = KEY_TYPES.get(alg)
    if fit is None:
        return False
    kty, curves = fit
    if jwk.get("kty") != kty:
        return False
    # `crv` is checked to be a string first: a JSON array or object is unhashable, and a
    # frozenset lookup of one raises TypeError instead of answering "does not fit".
    crv = jwk.get("crv")
    return curves is None or (isinstance(crv, str) and crv in curves)
