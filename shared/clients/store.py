"""What the token service reads and writes: client secrets and the signing secret (Secrets
Manager, cached per version) and the security table (lockout counters, spent assertions).

Secret versions are cached per (secret, staging label) for `POWERTOOLS_PARAMETERS_MAX_AGE`, as
the authorizer does; a client whose presented secret matches no cached version gets one forced
re-read (at most once per `FORCED_REFRESH_SECONDS`), so a just-rotated secret works at once.
botocore never leaves this module (`shared.aws.Boundary`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import aws
from shared.clients.errors import ClientStoreBusyError, ClientStoreFailedError
from shared.observability import logger, metrics
from shared.secret_formats import (
    AWSCURRENT,
    AWSPREVIOUS,
    ClientRecord,
    SecretFormatError,
    SigningKey,
    client_secret_name,
    parse_signing_secret,
)
from shared.security_table import (
    assertion_jti_key,
    count_failure,
    dpop_jti_key,
    ip_failures_key,
    lockout_window,
    spend_once,
)
from shared.settings import SecuritySettings

SECRETS_MANAGER = aws.Boundary(
    "secretsmanager", "Secrets Manager", busy=ClientStoreBusyError, failed=ClientStoreFailedError
)
DYNAMODB = aws.Boundary(
    "dynamodb", "DynamoDB", busy=ClientStoreBusyError, failed=ClientStoreFailedError
)
#: Least time between two forced re-reads of one secret.
FORCED_REFRESH_SECONDS = 1.0
MAX_ENTRIES = 1024
#: Reported when the lockout counters cannot be read or written (the check fails open).
UNAVAILABLE_METRIC = "SecurityTableUnavailable"


class _AbsentError(Exception):
    """The secret, or the staging label, does not exist (or awaits deletion)."""


@dataclass(frozen=True, slots=True)
class Version:
    secret_string: str = ""
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClientVersions:
    """A client's registration: AWSCURRENT, and AWSPREVIOUS while in its grace window."""

    current: ClientRecord
    previous: ClientRecord | None


class SecretCache:
    """Secret versions by (secret id, staging label), each for `max_age` seconds."""

    def __init__(
        self,
        client_factory: Callable[[], Any],
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._max_age = max_age
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, Version | None]] = OrderedDict()
        self._forced: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, secret_id: str, stage: str, *, refresh: bool = False) -> Version | None:
        key = (secret_id, stage)
        now = self._clock()
        cached = self._entries.get(key)
        if cached is not None and not refresh and now - cached[0] < self._max_age:
            return cached[1]
        version = self._fetch(secret_id, stage)
        with self._lock:
            self._entries[key] = (now, version)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return version

    def may_force(self, secret_id: str) -> bool:
        """Whether a forced re-read of `secret_id` is allowed now (and note it)."""
        now = self._clock()
        with self._lock:
            last = self._forced.get(secret_id)
            if last is not None and now - last < FORCED_REFRESH_SECONDS:
                return False
            self._forced[secret_id] = now
            if len(self._forced) > MAX_ENTRIES:
                self._forced.clear()
            return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._forced.clear()

    def _fetch(self, secret_id: str, stage: str) -> Version | None:
        if self._client is None:
            self._client = self._client_factory()
        try:
            # InvalidRequestException: the secret is scheduled for deletion (a revoked client).
            with SECRETS_MANAGER.translated(
                ResourceNotFoundException=_AbsentError, InvalidRequestException=_AbsentError
            ):
                response = self._client.get_secret_value(SecretId=secret_id, VersionStage=stage)
        except _AbsentError:
            return None
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise ClientStoreFailedError(f"secret {stage} is not a string")
        return Version(value, response.get("CreatedDate"))


class ClientStore:
    """Client registrations and the signing key, read through one `SecretCache`."""

    def __init__(
        self,
        cache: SecretCache,
        prefix: str,
        signing_secret_id: str,
        grace_seconds: int,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._prefix = prefix
        self._signing_secret_id = signing_secret_id
        self._grace_seconds = grace_seconds
        self._wall_clock = wall_clock

    def client(self, client_id: str, *, refresh: bool = False) -> ClientVersions | None:
        """The client's registration, or None when it does not exist (or is being deleted)."""
        name = client_secret_name(self._prefix, client_id)
        current_version = self._cache.get(name, AWSCURRENT, refresh=refresh)
        if current_version is None:
            return None
        current = _parse(current_version.secret_string, client_id)
        previous = None
        if not current.revoked and self._in_grace(current_version):
            previous_version = self._cache.get(name, AWSPREVIOUS, refresh=refresh)
            if previous_version is not None:
                try:
                    previous = _parse(previous_version.secret_string, client_id)
                except ClientStoreFailedError:
                    previous = None  # an unreadable old version grants nothing
        return ClientVersions(current, previous)

    def may_refresh(self, client_id: str) -> bool:
        return self._cache.may_force(client_secret_name(self._prefix, client_id))

    def signing_key(self) -> SigningKey:
        """The AWSCURRENT signing key: the one every issued token is signed with."""
        version = self._cache.get(self._signing_secret_id, AWSCURRENT)
        if version is None:
            raise ClientStoreFailedError("signing secret missing")
        # A malformed or short key is a ConfigurationError: a 500, never a weak token.
        return parse_signing_secret(version.secret_string)

    def _in_grace(self, current: Version) -> bool:
        """AWSPREVIOUS is honoured for the grace window after AWSCURRENT was created."""
        if current.created is None:
            return False
        age = self._wall_clock() - current.created.timestamp()
        return age <= self._grace_seconds


def _parse(secret_string: str, client_id: str) -> ClientRecord:
    try:
        record = ClientRecord.parse(secret_string)
    except SecretFormatError:
        raise ClientStoreFailedError(f"secret of client {client_id} is malformed") from None
    if record.client_id != client_id:
        raise ClientStoreFailedError(f"secret of client {client_id} names another client")
    return record


class _SpentError(Exception):
    """The conditional put found the assertion's marker: a replay."""


class SecurityStore:
    """The security table as the token service uses it: source-IP lockout counters (the same
    fixed windows and keys as the authorizer's) and spent assertion `jti`s."""

    def __init__(
        self,
        settings: SecuritySettings,
        client_factory: Callable[[], Any],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._client_factory = client_factory
        self._client: Any = None
        self._clock = wall_clock

    @property
    def enabled(self) -> bool:
        return self.settings.table_name is not None

    def is_locked(self, source_ip: str) -> bool:
        """Whether the IP has `LOCKOUT_THRESHOLD` failures in this window. Fails open when the
        table cannot be read (logged and counted), as the authorizer's lockout does."""
        table = self.settings.table_name
        if table is None or not source_ip:
            return False
        now = self._clock()
        key = ip_failures_key(source_ip, lockout_window(now, self.settings.lockout_window_seconds))
        try:
            with DYNAMODB.translated():
                item = (
                    self._dynamodb()
                    .get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)
                    .get("Item")
                )
        except (ClientStoreBusyError, ClientStoreFailedError) as error:
            _unavailable(error)
            return False
        if not item or _number(item, "expires_at", float("inf")) <= now:
            return False
        return _number(item, "count", 0) >= self.settings.lockout_threshold

    def record_failure(self, source_ip: str) -> bool:
        """Count one failed client authentication for the IP; True if that locked it."""
        table = self.settings.table_name
        if table is None or not source_ip:
            return False
        update = count_failure(source_ip, self._clock(), self.settings.lockout_window_seconds)
        try:
            with DYNAMODB.translated():
                response = self._dynamodb().update_item(TableName=table, **update)
        except (ClientStoreBusyError, ClientStoreFailedError) as error:
            _unavailable(error)
            return False
        return int(response["Attributes"]["count"]["N"]) == self.settings.lockout_threshold

    def spend_assertion(self, client_id: str, jti: str, keep_until: int) -> bool:
        """Mark an assertion's `jti` used until `keep_until` (its `exp` plus the clock skew);
        False when it already was (a replay). Fails closed: without the table, no assertion can
        be proven unused. DynamoDB deletes expired items lazily, which only keeps a marker
        longer than needed: the assertion itself has expired by then."""
        table = self.settings.table_name
        if table is None:
            raise ClientStoreFailedError("no security table: assertions cannot be checked")
        try:
            with DYNAMODB.translated(ConditionalCheckFailedException=_SpentError):
                self._dynamodb().put_item(
                    **spend_once(table, assertion_jti_key(client_id, jti), keep_until)
                )
        except _SpentError:
            return False
        return True

    def spend_dpop_proof(self, jkt: str, jti: str, keep_until: int) -> bool:
        """Mark a DPoP proof's `jti` used (the replay cache the authorizer writes too); False
        when it already was. Fails closed like assertions."""
        table = self.settings.table_name
        if table is None:
            raise ClientStoreFailedError("no security table: DPoP proofs cannot be checked")
        try:
            with DYNAMODB.translated(ConditionalCheckFailedException=_SpentError):
                self._dynamodb().put_item(**spend_once(table, dpop_jti_key(jkt, jti), keep_until))
        except _SpentError:
            return False
        return True

    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client


def _unavailable(error: Exception) -> None:
    from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

    logger.warning("security table unavailable", detail=str(error))
    metrics.add_metric(name=UNAVAILABLE_METRIC, unit=MetricUnit.Count, value=1)


def _number(item: dict[str, Any], name: str, default: float) -> float:
    try:
        return float(item[name]["N"])
    except (KeyError, TypeError, ValueError):
        return default
