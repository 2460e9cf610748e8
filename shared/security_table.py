"""The security table (DynamoDB): the one place that knows its item keys.

One table, partition key `pk` (string), TTL attribute `expires_at` (Unix seconds). Items:

- `fail#ip#<ip>#<window>`: failed authentications from one source IP in one window (`count`,
  and `ip` and `window_key`, the keys of the `LockedSources` index: the sources at or over the
  lockout threshold in a window are one `Query` away, for the authorizer's snapshot and for the
  WAF `BlockedSources` sweeper);
- `revoked#jti#<jti>`: one revoked token, until its expiry (`jti`, `revoked_at`, `revoked_by`);
- `revoked#sub#<scheme>#<issuer, percent-encoded>#<subject>`: every token of one subject of one
  issuer issued before `before` (a `jwt` subject and an `oauth` subject are different callers
  even when the strings match);
- `seen#<keyId>#<ip>`: an API key was used from this source IP recently;
- `assertion#<clientId>#<sha256(jti)>`: a private_key_jwt client assertion already used, kept
  until the assertion's `exp` (RFC 7523 section 3, "jti");
- `dpop#<jkt>#<sha256(jti)>`: a DPoP proof already used, kept until it would be refused as stale
  anyway (RFC 9449 section 11.1). Scoped by the proof key's thumbprint: two clients' `jti`s
  never collide, and nobody can spend another key's `jti` without that key's signature.

Revocation items carry `kind = "revocation"`, the key of a sparse index (`RevocationsByKind`) that
lists active revocations without scanning the counters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

REVOCATION_KIND = "revocation"
REVOCATIONS_INDEX = "RevocationsByKind"
#: Counter items by window (`window_key`), sorted by `count`.
LOCKED_SOURCES_INDEX = "LockedSources"


def ip_failures_key(ip: str, window: int) -> str:
    return f"fail#ip#{ip}#{window}"


def lockout_window(now: float, window_seconds: int) -> int:
    """The fixed lockout window `now` falls in."""
    return int(now // window_seconds)


def window_key(window: int) -> str:
    """The `LockedSources` index's partition key of one lockout window."""
    return f"fail#{window}"


def count_failure(ip: str, now: float, window_seconds: int) -> dict[str, Any]:
    """The `UpdateItem` arguments (all but `TableName`) that count one failure from `ip` in the
    current window, atomically, and return the new count (`Attributes.count`). The item lives
    one window past its own, so a lookup late in a window still sees it; the authorizer and
    the token service both count through this. One write: the same update keeps the item in
    the `LockedSources` index."""
    window = lockout_window(now, window_seconds)
    expires = int((window + 2) * window_seconds)
    return {
        "Key": {"pk": {"S": ip_failures_key(ip, window)}},
        "UpdateExpression": "ADD #count :one SET expires_at = :expires, ip = :ip, window_key = :w",
        "ExpressionAttributeNames": {"#count": "count"},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":expires": {"N": str(expires)},
            ":ip": {"S": ip},
            ":w": {"S": window_key(window)},
        },
        "ReturnValues": "UPDATED_NEW",
    }


class MalformedAnswerError(Exception):
    """The table answered with success but without what that operation always returns (a
    `Query` without `Items`, a `BatchGetItem` without the table's `Responses`): a proxy or an
    endpoint that is not DynamoDB. Never read as "nothing found", which would drop every
    revocation or lockout (and empty the WAF `BlockedSources` sets); callers treat it as the
    table being unreachable."""


def answer_items(answer: Any, *path: str) -> list[Any]:
    """The item list at `path` in a successful DynamoDB answer (`"Items"`; `"Responses",
    table`). DynamoDB always includes it, empty when nothing matched."""
    value = answer
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, list):
        raise MalformedAnswerError(f"a DynamoDB answer without {'.'.join(path)}")
    return value


@dataclass(frozen=True, slots=True)
class LockedSources:
    """The source IPs locked out in one window, as the `LockedSources` index lists them."""

    window: int
    ips: frozenset[str]
    complete: bool
    """False when more sources were locked than `cap`: `ips` holds the first `cap` of them."""

    def until(self, window_seconds: int) -> int:
        """When this window's lockouts end (Unix seconds)."""
        return (self.window + 1) * window_seconds


def locked_sources(
    client: Any, table: str, *, now: float, window_seconds: int, threshold: int, cap: int
) -> LockedSources:
    """The source IPs with at least `threshold` failures in the window `now` falls in, at most
    `cap` of them: one `Query` of the `LockedSources` index (a page holds up to 1 MB, about
    10,000 counters), more only past that. `client` is a DynamoDB client (boto3's or one with
    the same `query`); its errors propagate, and a page without `Items` raises
    `MalformedAnswerError`. The index is eventually consistent: a lockout
    shows up within about a second of the failure that caused it."""
    window = lockout_window(now, window_seconds)
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": LOCKED_SOURCES_INDEX,
        "KeyConditionExpression": "window_key = :w AND #count >= :threshold",
        "ExpressionAttributeNames": {"#count": "count", "#ip": "ip"},
        "ExpressionAttributeValues": {
            ":w": {"S": window_key(window)},
            ":threshold": {"N": str(threshold)},
        },
        "ProjectionExpression": "#ip",
    }
    ips: set[str] = set()
    while True:
        page = client.query(**query, Limit=cap + 1 - len(ips))
        for item in answer_items(page, "Items"):
            ip = item.get("ip", {}).get("S")
            if isinstance(ip, str):
                ips.add(ip)
        if len(ips) > cap:
            return LockedSources(window, frozenset(sorted(ips)[:cap]), complete=False)
        last = page.get("LastEvaluatedKey")
        if not last:
            return LockedSources(window, frozenset(ips), complete=True)
        query["ExclusiveStartKey"] = last


def revoked_jti_key(jti: str) -> str:
    return f"revoked#jti#{jti}"


def revoked_subject_key(scheme: str, issuer: str, subject: str) -> str:
    # The issuer is percent-encoded, so that no `#` in it can make two triples one key.
    return f"revoked#sub#{scheme}#{quote(issuer, safe='')}#{subject}"


def seen_source_key(key_id: str, ip: str) -> str:
    return f"seen#{key_id}#{ip}"


def assertion_jti_key(client_id: str, jti: str) -> str:
    """The replay marker of one client assertion (the jti is hashed: it is the client's string,
    of any length, and only equality matters)."""
    digest = hashlib.sha256(jti.encode("utf-8", "surrogatepass")).hexdigest()
    return f"assertion#{client_id}#{digest}"


def dpop_jti_key(jkt: str, jti: str) -> str:
    """The replay marker of one DPoP proof (the jti hashed, as for assertions)."""
    digest = hashlib.sha256(jti.encode("utf-8", "surrogatepass")).hexdigest()
    return f"dpop#{jkt}#{digest}"


def spend_once(table: str, key: str, keep_until: int) -> dict[str, Any]:
    """The `PutItem` arguments that store a single-use marker, or fail with
    `ConditionalCheckFailedException` when it already exists (DynamoDB conditional writes are
    atomic: of two concurrent puts of one key, exactly one succeeds)."""
    return {
        "TableName": table,
        "Item": {"pk": {"S": key}, "expires_at": {"N": str(keep_until)}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }


def token_revocation_bound_seconds(authorizer_cache_ttl: int, refresh_seconds: int) -> int:
    """Longest time a revoked token can still pass: API Gateway may answer from a cached policy
    for its TTL, and a policy built just before that may come from an authorizer whose snapshot
    of the revocations is up to `SECURITY_REFRESH_SECONDS` old (docs/security.md)."""
    return authorizer_cache_ttl + refresh_seconds


def api_key_revocation_bound_seconds(authorizer_cache_ttl: int, secret_cache_seconds: int) -> int:
    """Longest time a revoked API key can still pass: the cached policy, then the authorizer's
    cached AWSCURRENT version of the key's secret (`POWERTOOLS_PARAMETERS_MAX_AGE`)."""
    return authorizer_cache_ttl + secret_cache_seconds
