"""The OAuth provider's key set, fetched and cached the way an authorizer needs it.

Replaces PyJWT's `PyJWKClient` (PyJWT issues #929, #1051, #1162): that client waits 30 s by
default, refetches on every unknown kid with no cooldown, and may drop its keys when a fetch
fails. Here: discovery (OIDC, then RFC 8414), a freshness window, at most one unknown-kid
refetch per cooldown, last-good keys kept when the provider is down (stale-if-error), a 2 s
timeout, a 150 KB body cap, a bounded key count, and one fetch at a time (concurrent callers
share it). Key parsing is PyJWT's (`PyJWK`).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK, PyJWTError

from authorizer.errors import CredentialError, DependencyError
from shared.settings import AuthorizerSettings, is_trusted_url

FETCH_TIMEOUT_SECONDS = 2.0
MAX_BODY_BYTES = 150 * 1024
MAX_KEYS = 100
#: Key types an OAuth access token may be verified with; `oct` (shared secrets) never.
ASYMMETRIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
_DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


class FetchError(Exception):
    """The provider could not be reached or answered something unusable."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One usable key of the set, with the JWK fields the algorithm check needs."""

    kid: str
    kty: str
    crv: str | None
    alg: str | None
    use: str | None
    key: Any


def fetch_json(url: str) -> Any:
    """GET a JSON document with a short timeout and a size cap."""
    if not is_trusted_url(url):
        raise FetchError("untrusted URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            if response.status != 200:
                raise FetchError(f"status {response.status}")
            body = response.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the open response
        raise FetchError(f"status {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise FetchError(type(error).__name__) from None
    if len(body) > MAX_BODY_BYTES:
        raise FetchError("body too large")
    try:
        return json.loads(body)
    except ValueError:
        raise FetchError("not JSON") from None


def parse_key_set(document: Any) -> dict[str, PublicKey]:
    """The usable asymmetric signing keys of a JWKS document, by kid (first of a kid wins)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise FetchError("not a JWK set")
    keys: dict[str, PublicKey] = {}
    for jwk in document["keys"]:
        if len(keys) >= MAX_KEYS:
            break
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") not in ASYMMETRIC_KEY_TYPES or jwk["kid"] in keys:
            continue
        if any(field in jwk for field in ("d", "p", "q")):
            continue  # a private key published by mistake is never used
        try:
            parsed = PyJWK(jwk)
        except (PyJWTError, ValueError, TypeError):
            continue
        keys[jwk["kid"]] = PublicKey(
            kid=jwk["kid"],
            kty=jwk["kty"],
            crv=jwk.get("crv"),
            alg=jwk.get("alg"),
            use=jwk.get("use"),
            key=parsed.key,
        )
    return keys


class JwksCache:
    def __init__(
        self,
        settings: AuthorizerSettings,
        fetch: Callable[[str], Any] = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._fetch = fetch
        self._clock = clock
        self._jwks_uri = settings.oauth_jwks_uri
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at: float | None = None
        self._last_unknown_kid_fetch: float | None = None
        self._last_failure: float | None = None
        self._lock = threading.Lock()

    def get_key(self, kid: str) -> PublicKey:
        """The key for `kid`. `CredentialError` for an unknown kid while a usable set is held,
        `DependencyError` when no usable set can be had."""
        now = self._clock()
        if not self._is_fresh(now) and not self._backing_off(now):
            self._refresh(now)
        if not self._is_usable(now):
            raise DependencyError("jwks_unavailable")  # never fetched, or stale beyond the limit
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._may_refetch_for_unknown_kid(now) and not self._backing_off(now):
            self._refresh(now, unknown_kid=True)
            key = self._keys.get(kid)
            if key is not None:
                return key
        raise CredentialError("unknown_kid")

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def _is_fresh(self, now: float) -> bool:
        return (
            self._fetched_at is not None
            and now - self._fetched_at < self._settings.jwks_cache_seconds
        )

    def _is_usable(self, now: float) -> bool:
        return (
            self._fetched_at is not None
            and now - self._fetched_at <= self._settings.jwks_max_stale_seconds
        )

    def _backing_off(self, now: float) -> bool:
        """After a failed fetch, wait a cooldown before the next try: while the provider is
        down, requests use the stale keys (or fail) at once instead of each waiting 2 s."""
        failed = self._last_failure
        return failed is not None and now - failed < self._settings.jwks_min_refresh_seconds

    def _may_refetch_for_unknown_kid(self, now: float) -> bool:
        last = self._last_unknown_kid_fetch
        return last is None or now - last >= self._settings.jwks_min_refresh_seconds

    def _refresh(self, now: float, *, unknown_kid: bool = False) -> None:
        fetched_before = self._fetched_at
        with self._lock:
            # Another caller may have fetched while we waited for the lock: share its result.
            if self._fetched_at != fetched_before:
                return
            if unknown_kid:
                self._last_unknown_kid_fetch = now
            try:
                document = self._fetch(self._key_set_uri())
                keys = parse_key_set(document)
            except FetchError:
                self._last_failure = now
                if self._is_usable(now):
                    return  # stale-if-error: keep the last good keys
                raise DependencyError("jwks_unavailable") from None
            self._keys = keys
            self._fetched_at = now
            self._last_failure = None

    def _key_set_uri(self) -> str:
        if self._jwks_uri is None:
            self._jwks_uri = self._discover()
        return self._jwks_uri

    def _discover(self) -> str:
        issuer = self._settings.oauth_issuer
        if not issuer:
            raise FetchError("no issuer")
        for path in _DISCOVERY_PATHS:
            try:
                metadata = self._fetch(issuer.rstrip("/") + path)
            except FetchError:
                continue
            if not isinstance(metadata, dict):
                continue
            # RFC 8414 section 3.3: the metadata must name the issuer we configured.
            if metadata.get("issuer") != issuer:
                raise FetchError("discovery issuer mismatch")
            uri = metadata.get("jwks_uri")
            if isinstance(uri, str) and is_trusted_url(uri):
                return uri
            raise FetchError("discovery without a usable jwks_uri")
        raise FetchError("discovery failed")
