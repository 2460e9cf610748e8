"""Secrets-Manager-backed API keys (`api_key` scheme).

`wfk_<keyId>_<secret>`; the key's secret is `<API_KEY_SECRET_PREFIX><keyId>`. AWSCURRENT is
accepted; AWSPREVIOUS only within the grace window counted from AWSCURRENT's creation, so a
rotation refuses no caller. A malformed key never reaches Secrets Manager, and unknown key ids
are remembered for a while so that guessing ids costs us nothing.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from authorizer.errors import CredentialError, DependencyError
from authorizer.identity import Context, Identity
from authorizer.secret_store import SecretStore, SecretVersion
from shared.routes import Scheme
from shared.secret_formats import (
    AWSCURRENT,
    AWSPREVIOUS,
    ApiKeyRecord,
    SecretFormatError,
    api_key_secret_name,
)
from shared.settings import AuthorizerSettings

NEGATIVE_CACHE_SECONDS = 60.0
NEGATIVE_CACHE_SIZE = 10_000
#: Least time between two re-reads of one key's secret forced by a value matching neither
#: cached version.
FORCED_REFRESH_SECONDS = 1.0


def match_api_key(presented: str, record: ApiKeyRecord) -> bool:
    """Constant-time comparison of a presented key with a stored, non-revoked record."""
    same = hmac.compare_digest(presented.encode("utf-8"), record.api_key.encode("utf-8"))
    return same and not record.revoked


class ApiKey(NamedTuple):
    """An API key as presented: well formed (`wfk_<keyId>_<secret>`), not verified yet."""

    value: str
    key_id: str


class NegativeCache:
    """A bounded, time-limited set of key ids known not to exist."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._entries: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key_id: object) -> bool:
        if not isinstance(key_id, str):
            return False
        added = self._entries.get(key_id)
        return added is not None and self._clock() - added < self._ttl

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, key_id: str) -> None:
        with self._lock:
            self._entries[key_id] = self._clock()
            self._entries.move_to_end(key_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class Cooldown:
    """At most one event per key per `interval` seconds, remembering a bounded number of keys."""

    def __init__(
        self, interval: float, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval, self._size, self._clock = interval, size, clock
        self._last: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                return False
            self._last[key] = now
            self._last.move_to_end(key)
            while len(self._last) > self._size:
                self._last.popitem(last=False)
            return True


class ApiKeyVerifier:
    """The `api_key` scheme's verifier: the key's AWSCURRENT secret, or its AWSPREVIOUS within
    the grace window."""

    def __init__(
        self,
        settings: AuthorizerSettings,
        store: SecretStore,
        wall_clock: Callable[[], float] = time.time,
        negative: NegativeCache | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._wall_clock = wall_clock
        self.negative = (
            NegativeCache(NEGATIVE_CACHE_SECONDS, NEGATIVE_CACHE_SIZE)
            if negative is None
            else negative
        )
        self._forced_refreshes = Cooldown(FORCED_REFRESH_SECONDS, NEGATIVE_CACHE_SIZE)

    def verify(self, key: ApiKey, /) -> Identity:
        """The identity a stored key grants: its principal and scopes, always from AWSCURRENT."""
        presented, key_id = key
        if key_id in self.negative:
            raise CredentialError("unknown_key")
        name = api_key_secret_name(self._settings.api_key_secret_prefix, key_id)
        try:
            record = self._verify(presented, key_id, name, refresh=False)
        except CredentialError as error:
            # A value matching neither cached version may be the one a rotation just made
            # current: re-read once, at most once per FORCED_REFRESH_SECONDS per key, so that
            # no caller is refused right after a rotation and guessing costs bounded reads.
            if error.reason != "bad_key" or not self._forced_refreshes.allow(key_id):
                raise
            record = self._verify(presented, key_id, name, refresh=True)
        context: Context = {"key_id": key_id}
        return Identity(Scheme.API_KEY, record.principal, record.scopes, context)

    def _verify(self, presented: str, key_id: str, name: str, *, refresh: bool) -> ApiKeyRecord:
        current_version = self._store.get(name, AWSCURRENT, refresh=refresh)
        if current_version is None:
            self.negative.add(key_id)
            raise CredentialError("unknown_key")
        current = _record(current_version, key_id)
        if current.revoked:
            # Revoking a key revokes its rotated-out value too: AWSPREVIOUS is never consulted.
            raise CredentialError("revoked")
        if match_api_key(presented, current):
            return current
        previous_version = self._store.get(name, AWSPREVIOUS, refresh=refresh)
        if previous_version is None:
            raise CredentialError("bad_key")
        previous = _record(previous_version, key_id)
        if not match_api_key(presented, previous):
            raise CredentialError("bad_key")
        if not self._within_grace(current_version):
            raise CredentialError("stale_key")
        # The principal and scopes come from AWSCURRENT: a rotation never widens the old value.
        return current

    def _within_grace(self, current: SecretVersion) -> bool:
        age = current.age_seconds(self._wall_clock(), self._settings.clock_skew_seconds)
        return age is not None and age <= self._settings.api_key_grace_seconds


def _record(version: SecretVersion, key_id: str) -> ApiKeyRecord:
    try:
        record = ApiKeyRecord.parse(version.secret_string)
    except SecretFormatError:
        raise DependencyError("api_key_secret_malformed") from None
    if record.key_id != key_id:
        raise DependencyError("api_key_secret_mismatch")
    return record
