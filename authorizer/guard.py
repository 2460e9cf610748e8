"""Brute-force lockout, token revocation and new-source detection, backed by the security table.

Budget: one DynamoDB round trip per verified request, a `BatchGetItem` of every item
the decision needs (the two failure counters, the token's revocation items or the key's
seen-source item), made before any verification work. Failures add counter writes; a key's
first use from a new IP adds one write. Requests answered from API Gateway's authorizer cache
cost nothing.

When the table cannot be read, the lockout check fails open (logged and counted): refusing
every caller because the counter store is down would turn a DynamoDB incident into a full
outage, and brute force is also bounded by the stage throttle and the optional WAF rule. The
revocation check fails closed: a revoked token is a known-compromised credential, and an
attacker able to degrade the table must not be able to use it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from authorizer.errors import DependencyError
from shared.observability import logger
from shared.security_table import (
    count_failure,
    ip_failures_key,
    lockout_window,
    revoked_jti_key,
    revoked_subject_key,
    seen_source_key,
    spend_once,
)
from shared.settings import SecuritySettings

#: Reported by a precheck that could not read the table.
UNAVAILABLE_METRIC = "SecurityTableUnavailable"
#: Seconds per attempt, and botocore's `max_attempts` (retries after the first call): the
#: table is read on every uncached request, so a slow table must cost little before the
#: lockout fails open.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.0
MAX_RETRIES = 2


def default_dynamodb_client() -> Any:
    """A DynamoDB client from the AWS boundary (`shared.aws`), imported and built on first use
    like the Secrets Manager client."""
    from shared import aws  # noqa: PLC0415

    return aws.client(
        "dynamodb",
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_retries=MAX_RETRIES,
    )


@dataclass(frozen=True, slots=True)
class Precheck:
    """What the table said about this request, read in one round trip."""

    available: bool = True
    ip_failures: int = 0
    jti_revoked: bool = False
    subject_revoked_before: float | None = None
    source_seen: bool = True

    def require_available(self) -> None:
        if not self.available:
            raise DependencyError("security_table_unavailable")


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
    def __init__(
        self,
        settings: SecuritySettings,
        client_factory: Callable[[], Any] = default_dynamodb_client,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._client_factory = client_factory
        self._client: Any = None
        self._clock = wall_clock

    @property
    def enabled(self) -> bool:
        return self.settings.table_name is not None

    def window(self, now: float | None = None) -> int:
        now = self._clock() if now is None else now
        return lockout_window(now, self.settings.lockout_window_seconds)

    def precheck(self, who: Subject) -> Precheck:
        table = self.settings.table_name
        if table is None:
            return Precheck()
        now = self._clock()
        window = self.window(now)
        wanted = {"ip": ip_failures_key(who.source_ip, window)}
        if who.jti:
            wanted["jti"] = revoked_jti_key(who.jti)
        if who.subject and who.scheme:
            wanted["sub"] = revoked_subject_key(who.scheme, who.issuer, who.subject)
        if who.key_id and who.source_ip:
            wanted["seen"] = seen_source_key(who.key_id, who.source_ip)
        try:
            response = self._dynamodb().batch_get_item(
                RequestItems={table: {"Keys": [{"pk": {"S": key}} for key in set(wanted.values())]}}
            )
        except Exception as error:  # botocore errors, or no region/credentials at all
            return self._unavailable(error)
        if response.get("UnprocessedKeys"):
            return self._unavailable(None)
        items = {
            item["pk"]["S"]: item
            for item in response.get("Responses", {}).get(table, [])
            # DynamoDB deletes expired items lazily (up to days later): check TTL ourselves.
            if _number(item, "expires_at", default=float("inf")) > now
        }
        subject_item = items.get(wanted.get("sub", ""))
        return Precheck(
            ip_failures=int(_number(items.get(wanted["ip"]), "count")),
            jti_revoked="jti" in wanted and wanted["jti"] in items,
            subject_revoked_before=_number(subject_item, "before") if subject_item else None,
            source_seen="seen" not in wanted or wanted["seen"] in items,
        )

    def is_locked(self, precheck: Precheck) -> bool:
        return precheck.ip_failures >= self.settings.lockout_threshold

    def record_failure(self, source_ip: str) -> bool:
        """Count one failed attempt from `source_ip`; True if that locked it out."""
        table = self.settings.table_name
        if table is None:
            return False
        update = count_failure(source_ip, self._clock(), self.settings.lockout_window_seconds)
        try:
            response = self._dynamodb().update_item(TableName=table, **update)
        except Exception as error:
            self._unavailable(error)
            return False
        return int(response["Attributes"]["count"]["N"]) == self.settings.lockout_threshold

    def remember_source(self, who: Subject) -> None:
        table = self.settings.table_name
        if table is None or not who.key_id or not who.source_ip:
            return
        expires = int(self._clock() + self.settings.new_source_period_seconds)
        try:
            self._dynamodb().put_item(
                TableName=table,
                Item={
                    "pk": {"S": seen_source_key(who.key_id, who.source_ip)},
                    "expires_at": {"N": str(expires)},
                },
            )
        except Exception as error:
            self._unavailable(error)

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

    def _unavailable(self, error: Exception | None) -> Precheck:
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

        from shared.observability import metrics  # noqa: PLC0415

        logger.warning(
            "security table unavailable",
            error_type=type(error).__name__ if error else "Unprocessed",
        )
        metrics.add_metric(name=UNAVAILABLE_METRIC, unit=MetricUnit.Count, value=1)
        return Precheck(available=False)


def _number(item: dict[str, Any] | None, name: str, default: float = 0.0) -> float:
    if not item or name not in item:
        return default
    try:
        return float(item[name]["N"])
    except (KeyError, TypeError, ValueError):
        return default
