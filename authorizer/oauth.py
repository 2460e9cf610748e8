"""External OAuth 2.0 access tokens (`oauth` scheme), verified against the provider's JWKS.

Order (aws-jwt-verify `verifyDecomposedJwt`, RFC 8725): header rules → key by kid from the
configured key set → the token's algorithm must be in the constant allow-list AND fit the key
→ signature and claims by PyJWT with exactly that one algorithm.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from authorizer.errors import CredentialError
from authorizer.identity import (
    CLIENT_ID_CLAIMS,
    MAX_PRINCIPAL_LENGTH,
    Context,
    Identity,
    principal_of,
    token_identity,
)
from authorizer.jose import OAUTH_ALGORITHMS, UnverifiedToken, reason_for
from authorizer.jwks import JwksCache, PublicKey
from shared.routes import Scheme
from shared.settings import AuthorizerSettings

#: Accepted `typ` header values, compared case-insensitively (RFC 9068 section 2.1).
ACCESS_TOKEN_TYPES: tuple[str, ...] = ("jwt", "at+jwt", "application/at+jwt")

#: Which key each algorithm may be used with: (kty, allowed curves or None).
_KEY_FIT: dict[str, tuple[str, frozenset[str] | None]] = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), ("RSA", None)),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}


def key_fits(key: PublicKey, alg: str) -> bool:
    """Whether `alg` may be verified with `key`: kty/crv match, key `alg` and `use` agree."""
    fit = _KEY_FIT.get(alg)
    if fit is None or alg not in OAUTH_ALGORITHMS:
        return False
    kty, curves = fit
    if key.kty != kty or (curves is not None and key.crv not in curves):
        return False
    if key.alg is not None and key.alg != alg:
        return False
    return key.use is None or key.use == "sig"


class OAuthTokenVerifier:
    """The `oauth` scheme's verifier: the provider's key set, asymmetric algorithms only."""

    def __init__(self, settings: AuthorizerSettings, jwks: JwksCache) -> None:
        self._settings = settings
        self._jwks = jwks

    def verify(self, token: UnverifiedToken, /) -> Identity:
        """The token's identity: `sub`, else `client_id`, else `azp`; the client in the
        context; scopes from `scope` and `scp`."""
        claims = self._claims(token)
        principal = principal_of(claims)
        if principal is None:
            raise CredentialError("missing_claim")
        context: Context = {}
        client_id = principal_of(claims, CLIENT_ID_CLAIMS)
        if client_id:
            context["client_id"] = client_id[:MAX_PRINCIPAL_LENGTH]
        return token_identity(Scheme.OAUTH, principal, claims, context)

    def _claims(self, token: UnverifiedToken) -> dict[str, Any]:
        alg, kid = token.alg, token.kid
        if alg not in OAUTH_ALGORITHMS:
            raise CredentialError("bad_algorithm")
        if kid is None:
            raise CredentialError("missing_kid")
        typ = token.header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES):
            raise CredentialError("bad_type")
        key = self._jwks.get_key(kid)
        if not key_fits(key, alg):
            raise CredentialError("key_mismatch")
        try:
            claims: dict[str, Any] = jwt.decode(
                token.raw,
                key.key,
                algorithms=[alg],
                audience=self._settings.oauth_audience,
                issuer=self._settings.oauth_issuer,
                leeway=self._settings.clock_skew_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise CredentialError(reason_for(error)) from None
        # PyJWT has checked that `exp` and `iat` (when present) are numbers.
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) else time.time()
        longest = self._settings.oauth_max_lifetime_seconds + self._settings.clock_skew_seconds
        if claims["exp"] - start > longest:
            # A provider's 30-day token must not outlive every revocation we can store.
            raise CredentialError("lifetime_too_long")
        return claims
