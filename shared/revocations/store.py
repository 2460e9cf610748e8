"""The revocation store: token revocations kept in the security table (DynamoDB).

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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from shared import aws
from shared.api_errors import DependencyBusyError, DependencyFailedError, InvalidNextTokenError
from shared.revocations.requests import parse_request
from shared.security_table import (
    REVOCATION_KIND,
    REVOCATIONS_INDEX,
    revoked_jti_key,
    revoked_subject_key,
)
from shared.settings import ConfigurationError, SecuritySettings

if TYPE_CHECKING:
    from shared.http_api import Page

DYNAMODB = aws.Boundary(
    "dynamodb", "DynamoDB", busy=DependencyBusyError, failed=DependencyFailedError
)
#: A page of revocations holds this many when `limit` is not given.
DEFAULT_PAGE_SIZE = 50


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


class RevocationStore:
    def __init__(
        self,
        settings: SecuritySettings,
        client: Any,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings.table_name is None:
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

    def active(self, page: Page) -> tuple[list[Revocation], str | None]:
        """Revocations not yet expired, a page at a time (opaque `nextToken`)."""
        limit, next_token = page.limit, page.next_token
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
        # DynamoDB refuses an ExclusiveStartKey that is not one of this index's keys.
        known: dict[str, aws.ErrorFactory] = (
            {"ValidationException": InvalidNextTokenError} if "ExclusiveStartKey" in kwargs else {}
        )
        with DYNAMODB.translated(**known):
            return getattr(self._client, operation)(**kwargs)


def new_client() -> Any:
    """The DynamoDB client (tests replace this function)."""
    return DYNAMODB.client()


@cache
def default_store() -> RevocationStore:
    """The store of this container, configured from the environment, created on first use."""
    return RevocationStore(SecuritySettings.from_env(os.environ), new_client())


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
        raise InvalidNextTokenError("nextToken does not decode") from None
    if not isinstance(key, dict) or set(key) - {"pk", "kind"}:
        raise InvalidNextTokenError("nextToken does not decode")
    return key
