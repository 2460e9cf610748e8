"""Internal service tokens (`jwt` scheme): HS256 signed with the Secrets Manager signing secret.

A token with `kid` is verified with the AWSCURRENT or AWSPREVIOUS version carrying that kid; a
token without `kid` is tried against AWSCURRENT, then AWSPREVIOUS, so callers keep working
through a rotation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt

from authorizer.errors import CredentialError, DependencyError
from authorizer.identity import SUBJECT_CLAIMS, Identity, principal_of, token_identity
from authorizer.jose import SERVICE_ALGORITHMS, UnverifiedToken, reason_for
from authorizer.secret_store import SecretStore, SecretVersion
from shared.routes import Scheme
from shared.secret_formats import (
    AWSCURRENT,
    AWSPREVIOUS,
    SigningKey,
    is_signing_secret,
    parse_signing_secret,
    signing_secret_kid,
)
from shared.settings import AuthorizerSettings, ConfigurationError

#: Least time between two forced re-reads of the signing secret caused by a kid we do not know
#: (or a signature no cached key verifies): a just-rotated key is picked up at once, while a
#: flood of random kids costs at most one Secrets Manager read per label per window.
FORCED_REFRESH_SECONDS = 10.0


def verify_with_key(token: str, key: SigningKey, settings: AuthorizerSettings) -> dict[str, Any]:
    """Verify a service token with one signing key and every claim rule; return its claims.

    Raises `jwt.PyJWTError` subclasses for a bad token and `CredentialError` for rules PyJWT
    does not know (lifetime, subject type). The rotation function's `testSecret` uses it too.
    """
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=list(SERVICE_ALGORITHMS),
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        leeway=settings.clock_skew_seconds,
        options={
            "require": ["sub", "exp", "iat"],
            # An unset JWT_ISSUER / JWT_AUDIENCE means that claim is not checked.
            "verify_aud": settings.jwt_audience is not None,
            "verify_iss": settings.jwt_issuer is not None,
            "enforce_minimum_key_length": True,
        },
    )
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise CredentialError("malformed")
    if claims["exp"] - claims["iat"] > settings.jwt_max_lifetime_seconds:
        raise CredentialError("lifetime_too_long")
    return claims


class ServiceTokenVerifier:
    """The `jwt` scheme's verifier: HS256 with a version of the signing secret."""

    def __init__(
        self,
        settings: AuthorizerSettings,
        store: SecretStore,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._wall_clock = wall_clock
        self._last_forced: float | None = None
        #: How long after the current key's creation the previous key is still honoured: every
        #: token it signed legitimately has expired by then.
        self._previous_for = settings.jwt_max_lifetime_seconds + settings.clock_skew_seconds
        self._parsed_values: dict[str, _Parsed] = {}

    def verify(self, token: UnverifiedToken, /) -> Identity:
        """The token's identity: its `sub` (checked by `verify_with_key`), scopes, id, expiry."""
        claims = self._claims(token)
        principal = principal_of(claims, SUBJECT_CLAIMS)
        if principal is None:  # unreachable: `verify_with_key` requires a non-empty `sub`
            raise CredentialError("malformed")
        return token_identity(Scheme.JWT, principal, claims)

    def _claims(self, token: UnverifiedToken) -> dict[str, Any]:
        secret_id = self._settings.jwt_secret_id
        if not secret_id:
            raise CredentialError("scheme_not_configured")
        claims = self._try(token, secret_id, refresh=False)
        if claims is None and self._may_force_refresh():
            claims = self._try(token, secret_id, refresh=True)
        if claims is None:
            raise CredentialError("unknown_kid" if token.kid is not None else "bad_signature")
        return claims

    def _try(
        self, token: UnverifiedToken, secret_id: str, *, refresh: bool
    ) -> dict[str, Any] | None:
        """Claims if a candidate key verifies the signature, None if no key does."""
        for kid, key in self._candidates(secret_id, refresh=refresh):
            if token.kid is not None and kid != token.kid:
                continue
            if isinstance(key, ConfigurationError):  # a weak key, needed now
                raise DependencyError("weak_or_malformed_signing_key") from key
            try:
                return verify_with_key(token.raw, key, self._settings)
            except jwt.InvalidSignatureError:
                if token.kid is not None:
                    raise CredentialError("bad_signature") from None
            except jwt.PyJWTError as error:
                raise CredentialError(reason_for(error)) from None
        return None

    def _candidates(self, secret_id: str, *, refresh: bool) -> list[_Parsed]:
        current = self._store.get(secret_id, AWSCURRENT, refresh=refresh)
        if current is None:
            raise DependencyError("signing_secret_missing")
        parsed = [self._parsed(current, secret_id)]
        if not self._previous_honoured(current):
            # A rotation evicts the previous key within one token lifetime: after an
            # emergency rotation of a leaked key, tokens freshly minted with it stop working.
            return parsed
        previous = self._store.get(secret_id, AWSPREVIOUS, refresh=refresh)
        if previous is not None:
            parsed.append(self._parsed(previous, secret_id))
        return parsed

    def _parsed(self, version: SecretVersion, secret_id: str) -> _Parsed:
        """A version's kid and key, parsed once per value (the store hands out the same
        version object until it re-reads; parsing the JSON on every call cost about 3 % of a
        warm HS256 decision)."""
        value = version.secret_string
        found = self._parsed_values.get(value)
        if found is None:
            found = _parse_version(version, secret_id)
            if len(self._parsed_values) >= MAX_PARSED_VERSIONS:
                self._parsed_values.clear()
            self._parsed_values[value] = found
        return found

    def _previous_honoured(self, current: SecretVersion) -> bool:
        """Whether AWSPREVIOUS is still within `JWT_MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS`
        of the current version's `CreatedDate` (unknown creation: not honoured, fail closed)."""
        age = current.age_seconds(self._wall_clock(), self._settings.clock_skew_seconds)
        return age is not None and age <= self._previous_for

    def _may_force_refresh(self) -> bool:
        now = self._clock()
        if self._last_forced is not None and now - self._last_forced < FORCED_REFRESH_SECONDS:
            return False
        self._last_forced = now
        return True


#: Parsed signing-secret values kept at once (AWSCURRENT and AWSPREVIOUS, and what a
#: rotation leaves behind); past it the memo starts over.
MAX_PARSED_VERSIONS = 8

#: A version's kid, and its key (or the configuration error a weak key is, raised only when
#: that version is needed).
_Parsed = tuple[str, SigningKey | ConfigurationError]


def _parse_version(version: SecretVersion, secret_id: str) -> _Parsed:
    """A signing secret version that is not `{"kid", "key"}` JSON is a misconfiguration of
    ours (500, the log names the secret), never the caller's unknown kid."""
    value = version.secret_string
    kid = signing_secret_kid(value)
    if kid is None or not is_signing_secret(value):
        raise DependencyError("malformed_signing_secret") from ConfigurationError(
            f"signing secret {secret_id!r} ({version.version_id}) is not a JSON object with "
            '"kid" and "key" strings'
        )
    try:
        return kid, parse_signing_secret(value)
    except ConfigurationError as error:
        return kid, error
