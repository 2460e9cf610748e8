"""Brute-force lockout, token revocation and new-source detection, backed by the security table.

Budget (docs/architecture.md, "The security snapshot"): a warm decision for a valid credential
makes no network call. The guard holds one small snapshot per container, the active
revocations (`RevocationsByKind`) and the source IPs locked in the current window
(`LockedSources`), read with two `Query`s at most every `SECURITY_REFRESH_SECONDS`, on the
invocation that finds it too old (the first invocation of a container loads it). A failure
costs one write, the source IP's counter (`UpdateItem`), whose answer also locks the IP on
this container at once. An API key's first use from an IP on this container costs one
conditional `PutItem` of its seen-source item; later uses cost nothing.

Bounded: at most `REVOCATION_CAP` revocations, `SOURCE_CAP` locked IPs and `MEMO_CAP` entries
in each per-container memo. Past a cap no check is lost: that part of the check is read per
request instead (a `BatchGetItem` of the token's revocation items; a `GetItem` of the IP's
counter), logged and counted once per refresh.

When the table cannot be read, the last good snapshot is used for up to
`SECURITY_MAX_STALE_SECONDS` (each failed refresh logged and counted). Past that, revocable
credentials (bearer tokens) fail closed: a revoked token is a known-compromised credential,
and an attacker able to degrade the table must not be able to use it again. The lockout check
fails open (logged): refusing every caller because the counter store is down would turn a
DynamoDB incident into a full outage, and brute force is also bounded by the stage throttle
and WAF.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from authorizer.errors import DependencyError
from shared.observability import logger
from shared.security_table import (
    REVOCATION_KIND,
    REVOCATIONS_INDEX,
    LockedSources,
    MalformedAnswerError,
    answer_items,
    count_failure,
    ip_failures_key,
    locked_sources,
    lockout_window,
    revoked_jti_key,
    revoked_subject_key,
    seen_source_key,
    spend_once,
)
from shared.settings import SecuritySettings

#: Reported by every failed read or write of the table (a refresh, a fallback read, a write).
UNAVAILABLE_METRIC = "SecurityTableUnavailable"
#: Reported once per refresh that found more revocations or locked sources than the caps.
OVER_CAP_METRIC = "SecuritySnapshotOverCap"
#: Seconds per attempt, and botocore's `max_attempts` (retries after the first call): a slow
#: table must cost little before the last good snapshot is used.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.0
MAX_RETRIES = 2
#: Revocations held in the snapshot. Active revocations are few (a leaked token, a departed
#: client); 10,000 is far above that and still small: about 2 MB of Python objects, one or two
#: 1 MB `Query` pages per refresh. Past it, revocations are read per request.
REVOCATION_CAP = 10_000
#: Locked source IPs held in the snapshot: as many as one WAF IP set holds (the edge blocks the
#: same sources). About 1 MB. Past it, an IP not listed has its counter read per request.
SOURCE_CAP = 10_000
#: Entries in each per-container memo (IPs this container locked; (key id, IP) pairs known).
MEMO_CAP = 10_000
#: Longest a (key id, IP) pair is trusted as known without asking the table again: the table's
#: item may lapse meanwhile, so a new-source alert can come at most this late.
SEEN_MEMO_SECONDS = 3600
#: botocore's code for a conditional write whose condition was false.
CONDITION_FAILED = "ConditionalCheckFailedException"


def default_dynamodb_client() -> Any:
    """A DynamoDB client, built on first use: the light client (`authorizer.light_dynamodb`,
    no boto3 on the cold path) when the Lambda environment holds credentials and a region, as
    it does in Lambda; otherwise a boto3 client from the AWS boundary (`shared.aws`)."""
    import os  # noqa: PLC0415

    from authorizer.light_dynamodb import LightDynamoDB  # noqa: PLC0415

    light = LightDynamoDB.from_environment(
        os.environ,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_retries=MAX_RETRIES,
    )
    if light is not None:
        return light
    from shared import aws  # noqa: PLC0415

    return aws.client(
        "dynamodb",
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_retries=MAX_RETRIES,
    )


class Revoked(NamedTuple):
    """One active revocation item: until when it holds, and a subject revocation's time."""

    expires_at: float
    before: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the table said at `loaded_at`, in two `Query`s."""

    loaded_at: float
    revoked: Mapping[str, Revoked] | None
    """Active revocations by item key; None when there were more than the cap (read per
    request then)."""
    locked: LockedSources


@dataclass(frozen=True, slots=True)
class RevocationStatus:
    jti_revoked: bool = False
    subject_revoked_before: float | None = None


class Subject(NamedTuple):
    """The unverified identifiers of a credential the guard looks up. (A named tuple: one is
    built on every call, in less than half a frozen dataclass's time.)

    Only `source_ip` is ever counted toward a lockout. A key id or a `sub` read from an
    unverified credential keys lookups (revocations, seen sources), never a lockout: anyone
    can write a victim's id into a forged credential."""

    source_ip: str
    jti: str | None = None
    subject: str | None = None
    key_id: str | None = None
    scheme: str | None = None
    """The scheme selected for the credential, and its configured issuer: a subject
    revocation names both (`shared.security_table.revoked_subject_key`)."""
    issuer: str = ""


class Guard:
    """One per container: the snapshot and the memos live between invocations."""

    def __init__(
        self,
        settings: SecuritySettings,
        client_factory: Callable[[], Any] = default_dynamodb_client,
        wall_clock: Callable[[], float] = time.time,
        *,
        revocation_cap: int = REVOCATION_CAP,
        source_cap: int = SOURCE_CAP,
        memo_cap: int = MEMO_CAP,
    ) -> None:
        self.settings = settings
        self._client_factory = client_factory
        self._client: Any = None
        self._clock = wall_clock
        self.revocation_cap, self.source_cap, self.memo_cap = revocation_cap, source_cap, memo_cap
        self.snapshot: Snapshot | None = None
        #: When the last refresh was tried, and whether it failed (then no per-request read or
        #: write is tried either until a refresh succeeds: each would wait out the timeouts).
        self._attempted_at: float | None = None
        self._down = False
        #: IP -> the window in which this container's own counter writes saw it locked.
        self._locked_here: dict[str, int] = {}
        #: (key id, IP) -> until when the pair is known to have been seen.
        self._seen: dict[tuple[str, str], float] = {}

    @property
    def enabled(self) -> bool:
        return self.settings.table_name is not None

    def window(self, now: float | None = None) -> int:
        now = self._clock() if now is None else now
        return lockout_window(now, self.settings.lockout_window_seconds)

    # --- the snapshot -----------------------------------------------------------------------

    def refresh_if_due(self) -> None:
        """Read the snapshot again if it is older than `SECURITY_REFRESH_SECONDS` (or absent),
        at most once per that period whether the read succeeds or not."""
        table = self.settings.table_name
        if table is None:
            return
        now = self._clock()
        last = self._attempted_at
        if last is not None and now - last < self.settings.refresh_seconds and now >= last:
            return
        self._attempted_at = now
        try:
            self.snapshot = self._load(table, now)
        except Exception as error:  # botocore errors, or no region/credentials at all
            self._down = True
            age = None if self.snapshot is None else round(now - self.snapshot.loaded_at, 3)
            self._unavailable(error, snapshot_age_seconds=age)
            return
        self._down = False

    def _usable(self, now: float) -> Snapshot | None:
        """The snapshot, unless it is older than `SECURITY_MAX_STALE_SECONDS`."""
        snapshot = self.snapshot
        if snapshot is None or now - snapshot.loaded_at > self.settings.max_stale_seconds:
            return None
        return snapshot

    def _load(self, table: str, now: float) -> Snapshot:
        client = self._dynamodb()
        revoked = self._read_revocations(client, table, now)
        locked = locked_sources(
            client,
            table,
            now=now,
            window_seconds=self.settings.lockout_window_seconds,
            threshold=self.settings.lockout_threshold,
            cap=self.source_cap,
        )
        over = [
            name
            for name, full in (
                ("revocations", revoked is None),
                ("locked_sources", not locked.complete),
            )
            if full
        ]
        if over:
            self._count(
                OVER_CAP_METRIC,
                "security snapshot over its cap: read per request",
                parts=over,
                revocation_cap=self.revocation_cap,
                source_cap=self.source_cap,
            )
        return Snapshot(now, revoked, locked)

    def _read_revocations(self, client: Any, table: str, now: float) -> dict[str, Revoked] | None:
        """The active revocations (`RevocationsByKind`, sparse: revocation items only), or None
        past the cap. DynamoDB's TTL deletes lazily, so expired items are dropped here."""
        query: dict[str, Any] = {
            "TableName": table,
            "IndexName": REVOCATIONS_INDEX,
            "KeyConditionExpression": "#kind = :kind",
            "FilterExpression": "#expires > :now",
            "ProjectionExpression": "pk, #expires, #before",
            "ExpressionAttributeNames": {
                "#kind": "kind",
                "#expires": "expires_at",
                "#before": "before",
            },
            "ExpressionAttributeValues": {
                ":kind": {"S": REVOCATION_KIND},
                ":now": {"N": str(int(now))},
            },
        }
        revoked: dict[str, Revoked] = {}
        while True:
            page = client.query(**query)
            for item in answer_items(page, "Items"):  # never "none revoked" by omission
                key = item.get("pk", {}).get("S")
                expires = _number(item, "expires_at")
                if isinstance(key, str) and expires is not None and expires > now:
                    revoked[key] = Revoked(expires, _number(item, "before"))
            if len(revoked) > self.revocation_cap:
                return None
            last = page.get("LastEvaluatedKey")
            if not last:
                return revoked
            query["ExclusiveStartKey"] = last

    # --- the checks -------------------------------------------------------------------------

    def is_locked(self, source_ip: str) -> bool:
        """Whether `source_ip` is locked out in the current window: by this container's own
        counter writes, by the snapshot, or (past the snapshot's cap) by its counter. Fails
        open when nothing usable is known (see the module docstring)."""
        if self.settings.table_name is None or not source_ip:
            return False
        now = self._clock()
        window = self.window(now)
        if self._locked_here.get(source_ip) == window:
            return True
        snapshot = self._usable(now)
        if snapshot is None or snapshot.locked.window != window:
            # A snapshot from an earlier window says nothing about this one (its lockouts
            # ended with it); this window's appear at the next refresh.
            return False
        if source_ip in snapshot.locked.ips:
            return True
        if snapshot.locked.complete or self._down:
            return False
        return self._read_counter(source_ip, window) >= self.settings.lockout_threshold

    def revocations(self, who: Subject) -> RevocationStatus:
        """What the table says about this token's `jti` and subject. Raises `DependencyError`
        when no snapshot younger than `SECURITY_MAX_STALE_SECONDS` exists (fail closed)."""
        table = self.settings.table_name
        if table is None:
            return RevocationStatus()
        now = self._clock()
        snapshot = self._usable(now)
        if snapshot is None:
            raise DependencyError("security_table_unavailable")
        keys = {"jti": revoked_jti_key(who.jti)} if who.jti else {}
        if who.subject and who.scheme:
            keys["sub"] = revoked_subject_key(who.scheme, who.issuer, who.subject)
        if not keys:
            return RevocationStatus()
        found = snapshot.revoked
        if found is None:
            found = self._read_revocation_items(table, list(keys.values()))
        items = {name: found[key] for name, key in keys.items() if key in found}
        # DynamoDB deletes expired items lazily (up to days later): check the expiry here.
        active = {name: item for name, item in items.items() if item.expires_at > now}
        subject = active.get("sub")
        return RevocationStatus(
            jti_revoked="jti" in active,
            subject_revoked_before=subject.before if subject else None,
        )

    def record_failure(self, source_ip: str) -> bool:
        """Count one failed attempt from `source_ip` (the one write a failure costs); True if
        that locked it out. The new count is the update's answer, so this container refuses
        the IP at once, before any refresh."""
        table = self.settings.table_name
        if table is None:
            return False
        now = self._clock()
        update = count_failure(source_ip, now, self.settings.lockout_window_seconds)
        try:
            response = self._dynamodb().update_item(TableName=table, **update)
            count = int(response["Attributes"]["count"]["N"])
        except Exception as error:
            self._unavailable(error)
            return False
        if count >= self.settings.lockout_threshold:
            self._lock_here(source_ip, self.window(now))
        return count == self.settings.lockout_threshold

    def note_source(self, who: Subject) -> bool:
        """Whether this verified API key is used from a source IP not seen for it within
        `NEW_SOURCE_PERIOD_SECONDS`. Known pairs are memoized; an unknown pair costs one
        conditional `PutItem`, whose outcome is the answer (written: new; condition failed:
        known). Not known while the table is unreachable (no alert rather than a wait)."""
        table = self.settings.table_name
        key_id, ip = who.key_id, who.source_ip
        if table is None or not key_id or not ip:
            return False
        now = self._clock()
        pair = (key_id, ip)
        known_until = self._seen.get(pair)
        if known_until is not None and known_until > now:
            return False
        if self._down:
            return False
        period = self.settings.new_source_period_seconds
        try:
            self._dynamodb().put_item(
                TableName=table,
                Item={
                    "pk": {"S": seen_source_key(key_id, ip)},
                    "expires_at": {"N": str(int(now + period))},
                },
                # An item past its expiry may linger (lazy TTL): it counts as absent.
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
            new = True
        except Exception as error:
            if _error_code(error) != CONDITION_FAILED:
                self._unavailable(error)
                return False
            new = False
        _bounded_put(self._seen, pair, now + min(period, SEEN_MEMO_SECONDS), self.memo_cap)
        return new

    # --- per-request reads past the caps ----------------------------------------------------

    def _read_counter(self, source_ip: str, window: int) -> int:
        try:
            response = self._dynamodb().get_item(
                TableName=self.settings.table_name,
                Key={"pk": {"S": ip_failures_key(source_ip, window)}},
                ProjectionExpression="#count",
                ExpressionAttributeNames={"#count": "count"},
            )
        except Exception as error:
            self._unavailable(error)
            return 0
        return int(_number(response.get("Item"), "count") or 0)

    def _read_revocation_items(self, table: str, keys: list[str]) -> dict[str, Revoked]:
        if self._down:
            raise DependencyError("security_table_unavailable")
        try:
            response = self._dynamodb().batch_get_item(
                RequestItems={table: {"Keys": [{"pk": {"S": key}} for key in keys]}}
            )
        except Exception as error:
            self._unavailable(error)
            raise DependencyError("security_table_unavailable") from None
        if response.get("UnprocessedKeys"):
            self._unavailable(None)
            raise DependencyError("security_table_unavailable")
        try:
            items = answer_items(response, "Responses", table)
        except MalformedAnswerError as error:  # never "not revoked" by omission
            self._unavailable(error)
            raise DependencyError("security_table_unavailable") from None
        found: dict[str, Revoked] = {}
        for item in items:
            key = item.get("pk", {}).get("S")
            if isinstance(key, str):
                found[key] = Revoked(
                    _number(item, "expires_at") or float("inf"), _number(item, "before")
                )
        return found

    # --- plumbing ---------------------------------------------------------------------------

    def _lock_here(self, source_ip: str, window: int) -> None:
        # Oldest out: entries of past windows, dead anyway, are the oldest. An IP evicted while
        # still locked stays refused through the snapshot (its next refresh lists it).
        _bounded_put(self._locked_here, source_ip, window, self.memo_cap)

    def spend(self, key: str, keep_until: int) -> bool:
        """Store a single-use marker (a DPoP proof's `jti`, `authorizer.dpop`) with one
        conditional write; False when it already existed. Fails closed: any other failure is a
        `DependencyError`, as nothing then proves the marker new."""
        table = self.settings.table_name
        if table is None:
            raise DependencyError("security_table_missing")
        try:
            self._dynamodb().put_item(**spend_once(table, key, keep_until))
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            self._unavailable(error)
            raise DependencyError("security_table_unavailable") from None
        return True

    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _unavailable(self, error: Exception | None, **fields: Any) -> None:
        self._count(
            UNAVAILABLE_METRIC,
            "security table unavailable",
            error_type=type(error).__name__ if error else "Unprocessed",
            **fields,
        )

    @staticmethod
    def _count(metric: str, message: str, **fields: Any) -> None:
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

        from shared.observability import metrics  # noqa: PLC0415

        logger.warning(message, **fields)
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


def _bounded_put(memo: dict[Any, Any], key: Any, value: Any, cap: int) -> None:
    """Insert into an insertion-ordered dict holding at most `cap` entries (oldest out)."""
    memo.pop(key, None)
    while len(memo) >= cap:
        del memo[next(iter(memo))]
    memo[key] = value


def _error_code(error: Exception) -> str | None:
    """botocore's `ClientError` carries the AWS error code in `response["Error"]["Code"]`."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def _number(item: Mapping[str, Any] | None, name: str) -> float | None:
    if not item or name not in item:
        return None
    try:
        return float(item[name]["N"])
    except (KeyError, TypeError, ValueError):
        return None
