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
from dataclasses import dataclass
from datetime import UTC, datetime

from authorizer.errors import CredentialError, DependencyError
from authorizer.secret_store import CURRENT, PREVIOUS, SecretStore, SecretVersion
from shared.secret_formats import (
    ApiKeyRecord,
    SecretFormatError,
    api_key_secret_name,
    parse_api_key,
)
from shared.settings import AuthorizerSettings

NEGATIVE_CACHE_SECONDS = 60.0
NEGATIVE_CACHE_SIZE = 10_000


def match_api_key(presented: str, record: ApiKeyRecord) -> bool:
    """Constant-time comparison of a presented key with a stored, non-revoked record."""
    same = hmac.compare_digest(presented.encode("utf-8"), record.api_key.encode("utf-8"))
    return same and not record.revoked


@dataclass(frozen=True, slots=True)
class VerifiedApiKey:
    key_id: str
    record: ApiKeyRecord
    previous: bool
    """True when the caller used the rotated-out value inside its grace window."""


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


class ApiKeyVerifier:
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

    def verify(self, presented: str) -> VerifiedApiKey:
        key_id = parse_api_key(presented)
        if key_id is None:
            raise CredentialError("malformed")
        if key_id in self.negative:
            raise CredentialError("unknown_key")
        name = api_key_secret_name(self._settings.api_key_secret_prefix, key_id)
        current_version = self._store.get(name, CURRENT)
        if current_version is None:
            self.negative.add(key_id)
            raise CredentialError("unknown_key")
        current = _record(current_version, key_id)
        if current.revoked:
            raise CredentialError("revoked")  # also revokes AWSPREVIOUS (SPEC)
        if match_api_key(presented, current):
            return VerifiedApiKey(key_id, current, previous=False)
        previous_version = self._store.get(name, PREVIOUS)
        if previous_version is None:
            raise CredentialError("bad_key")
        previous = _record(previous_version, key_id)
        if not match_api_key(presented, previous):
            raise CredentialError("bad_key")
        if not self._within_grace(current_version):
            raise CredentialError("stale_key")
        # The principal and scopes come from AWSCURRENT: a rotation never widens the old value.
        return VerifiedApiKey(key_id, current, previous=True)

    def _within_grace(self, current: SecretVersion) -> bool:
        if current.created is None:
            return False
        created = current.created
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        age = datetime.fromtimestamp(self._wall_clock(), UTC) - created
        return age.total_seconds() <= self._settings.api_key_grace_seconds


def _record(version: SecretVersion, key_id: str) -> ApiKeyRecord:
    try:
        record = ApiKeyRecord.parse(version.secret_string)
    except SecretFormatError:
        raise DependencyError("api_key_secret_malformed") from None
    if record.key_id != key_id:
        raise DependencyError("api_key_secret_mismatch")
    return record
