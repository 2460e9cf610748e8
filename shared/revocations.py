"""Token revocations (`POST` / `GET /api/admin/revocations`), stored in the security table.

A revocation names one token (`jti`, kept until the token's expiry) or a subject (every token
of that principal issued before now, kept for `REVOCATION_MAX_SECONDS`, the longest lifetime a
token may have). The authorizer reads these items on every invocation (`authorizer/guard.py`);
the bound on how long a revoked token may still pass is API Gateway's authorizer cache TTL.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from shared.api_errors import DependencyBusyError, DependencyFailedError, InvalidRequestError
from shared.security_table import (
    REVOCATION_KIND,
    REVOCATIONS_INDEX,
    revoked_jti_key,
    revoked_subject_key,
)
from shared.settings import SecuritySettings

#: `jti` and subjects: printable, no whitespace, bounded (they become DynamoDB keys).
IDENTIFIER = re.compile(r"[\x21-\x7e]{1,256}")
_BUSY = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)


class InvalidRevocationError(InvalidRequestError):
    """The revocation request is not `{"jti": ..., "expiresAt": ...}` or `{"sub": ...}`."""

    code = "invalid_revocation"
    message = 'Send {"jti": "<token id>", "expiresAt": <unix seconds>} or {"sub": "<subject>"}.'


@dataclass(frozen=True, slots=True)
class RevocationRequest:
    kind: str  # "jti" | "sub"
    value: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class Revocation:
    kind: str
    value: str
    revoked_at: int
    expires_at: int
    revoked_by: str

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            self.kind: self.value,
            "revokedAt": self.revoked_at,
            "expiresAt": self.expires_at,
            "revokedBy": self.revoked_by,
        }
        if self.kind == "sub":
            data["issuedBefore"] = self.revoked_at
        return data


def parse_request(body: object, settings: SecuritySettings, now: float) -> RevocationRequest:
    """Validate a request body; `expiresAt` of a jti revocation is the token's `exp`."""
    if not isinstance(body, dict) or len(body) > 2:
        raise InvalidRevocationError("body must be a small JSON object")
    longest = int(now) + settings.revocation_max_seconds
    jti, sub = body.get("jti"), body.get("sub")
    if (jti is None) == (sub is None) or set(body) - {"jti", "sub", "expiresAt"}:
        raise InvalidRevocationError("exactly one of jti and sub")
    if jti is not None:
        expires = body.get("expiresAt", longest)
        if not isinstance(jti, str) or not IDENTIFIER.fullmatch(jti):
            raise InvalidRevocationError("malformed jti")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= now:
            raise InvalidRevocationError("expiresAt must be a future unix time")
        return RevocationRequest("jti", jti, min(expires, longest))
    if "expiresAt" in body or not isinstance(sub, str) or not IDENTIFIER.fullmatch(sub):
        raise InvalidRevocationError("malformed sub")
    return RevocationRequest("sub", sub, longest)


class RevocationStore:
    def __init__(
        self,
        settings: SecuritySettings,
        client: Any,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings.table_name is None:
            from shared.settings import ConfigurationError  # noqa: PLC0415

            raise ConfigurationError("SECURITY_TABLE_NAME must be set")
        self._table = settings.table_name
        self._settings = settings
        self._client = client
        self._clock = clock

    def revoke(self, body: object, revoked_by: str) -> Revocation:
        """Validate a request body and store the revocation."""
        now = int(self._clock())
        request = parse_request(body, self._settings, now)
        key = (
            revoked_jti_key(request.value)
            if request.kind == "jti"
            else revoked_subject_key(request.value)
        )
        item = {
            "pk": {"S": key},
            "kind": {"S": REVOCATION_KIND},
            "target": {"S": request.kind},
            "value": {"S": request.value},
            "revoked_at": {"N": str(now)},
            "revoked_by": {"S": revoked_by},
            "expires_at": {"N": str(request.expires_at)},
        }
        if request.kind == "sub":
            item["before"] = {"N": str(now)}
        self._call("put_item", TableName=self._table, Item=item)
        return Revocation(request.kind, request.value, now, request.expires_at, revoked_by)

    def active(self, limit: int, next_token: str | None) -> tuple[list[Revocation], str | None]:
        """Revocations not yet expired, a page at a time (opaque `nextToken`)."""
        now = int(self._clock())
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": REVOCATIONS_INDEX,
            "KeyConditionExpression": "kind = :kind",
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": {":kind": {"S": REVOCATION_KIND}, ":now": {"N": str(now)}},
            "Limit": limit,
        }
        if next_token:
            query["ExclusiveStartKey"] = _decode_token(next_token)
        response = self._call("query", **query)
        items = [_revocation(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return [r for r in items if r is not None], _encode_token(last) if last else None

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _BUSY:
                raise DependencyBusyError(code) from None
            if code == "ValidationException" and "ExclusiveStartKey" in kwargs:
                raise InvalidRevocationError("nextToken") from None
            raise DependencyFailedError(code) from None
        except BotoCoreError as error:
            raise DependencyBusyError(type(error).__name__) from None


@cache
def default_store() -> RevocationStore:
    """The store of this container, configured from the environment, created on first use."""
    import boto3  # noqa: PLC0415 - one client per container

    return RevocationStore(SecuritySettings.from_env(os.environ), boto3.client("dynamodb"))


def _revocation(item: Mapping[str, Any]) -> Revocation | None:
    try:
        return Revocation(
            kind=item["target"]["S"],
            value=item["value"]["S"],
            revoked_at=int(item["revoked_at"]["N"]),
            expires_at=int(item["expires_at"]["N"]),
            revoked_by=item["revoked_by"]["S"],
        )
    except (KeyError, TypeError, ValueError):
        return None


def _encode_token(key: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_token(token: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raise InvalidRevocationError("nextToken") from None
    if not isinstance(key, dict) or set(key) - {"pk", "kind"}:
        raise InvalidRevocationError("nextToken")
    return key
