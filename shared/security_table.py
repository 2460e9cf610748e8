"""The security table (DynamoDB): the one place that knows its item keys.

One table, partition key `pk` (string), TTL attribute `expires_at` (Unix seconds). Items:

- `fail#ip#<ip>#<window>`: failed authentications from one source IP in one window (`count`);
- `revoked#jti#<jti>`: one revoked token, until its expiry (`jti`, `revoked_at`, `revoked_by`);
- `revoked#sub#<scheme>#<issuer, percent-encoded>#<subject>`: every token of one subject of one
  issuer issued before `before` (a `jwt` subject and an `oauth` subject are different callers
  even when the strings match);
- `seen#<keyId>#<ip>`: an API key was used from this source IP recently;
- `assertion#<clientId>#<sha256(jti)>`: a private_key_jwt client assertion already used, kept
  until the assertion's `exp` (RFC 7523 section 3, "jti").

Revocation items carry `kind = "revocation"`, the key of a sparse index (`RevocationsByKind`) that
lists active revocations without scanning the counters.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

REVOCATION_KIND = "revocation"
REVOCATIONS_INDEX = "RevocationsByKind"


def ip_failures_key(ip: str, window: int) -> str:
    return f"fail#ip#{ip}#{window}"


def lockout_window(now: float, window_seconds: int) -> int:
    """The fixed lockout window `now` falls in."""
    return int(now // window_seconds)


def count_failure(ip: str, now: float, window_seconds: int) -> dict[str, Any]:
    """The `UpdateItem` arguments (all but `TableName`) that count one failure from `ip` in the
    current window, atomically, and return the new count (`Attributes.count`). The item lives
    one window past its own, so a lookup late in a window still sees it; the authorizer and
    the token service both count through this."""
    window = lockout_window(now, window_seconds)
    expires = int((window + 2) * window_seconds)
    return {
        "Key": {"pk": {"S": ip_failures_key(ip, window)}},
        "UpdateExpression": "ADD #count :one SET expires_at = :expires",
        "ExpressionAttributeNames": {"#count": "count"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":expires": {"N": str(expires)}},
        "ReturnValues": "UPDATED_NEW",
    }


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


def token_revocation_bound_seconds(authorizer_cache_ttl: int) -> int:
    """Longest time a revoked token can still pass: API Gateway may answer from a cached policy
    for its TTL; the authorizer itself keeps no revocation cache (it reads the table on every
    invocation)."""
    return authorizer_cache_ttl


def api_key_revocation_bound_seconds(authorizer_cache_ttl: int, secret_cache_seconds: int) -> int:
    """Longest time a revoked API key can still pass: the cached policy, then the authorizer's
    cached AWSCURRENT version of the key's secret (`POWERTOOLS_PARAMETERS_MAX_AGE`)."""
    return authorizer_cache_ttl + secret_cache_seconds
