"""The revocation store: token revocations kept in the security table (DynamoDB).

A revocation names one token (`jti`, kept until the token's expiry) or a subject of one scheme
(every token of that principal issued before now, kept for the longest lifetime a token the
authorizer accepts may have). The authorizer reads these items as a snapshot of the
`RevocationsByKind` index (`authorizer/guard.py`); a revoked token may still pass for at most
API Gateway's authorizer cache TTL plus `SECURITY_REFRESH_SECONDS`
(`shared.security_table.token_revocation_bound_seconds`).
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
from shared.settings import AuthorizerSettings, ConfigurationError

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
    scheme: str | None = None
    issuer: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            self.kind: self.value,
            "revokedAt": self.revoked_at,
            "expiresAt": self.expires_at,
            "revokedBy": self.revoked_by,
        }
        if self.kind == "sub":
            data["scheme"] = self.scheme
            data["iss"] = self.issuer
            data["issuedBefore"] = self.revoked_at
        return data


class RevocationStore:
    def __init__(
        self,
        settings: AuthorizerSettings,
        client: Any,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`settings` are the authorizer's: a revocation must follow its token rules exactly
        (lifetimes, skew, issuers), so it reads the same ones."""
        if settings.security.table_name is None:
            raise ConfigurationError("SECURITY_TABLE_NAME must be set")
        self._table = settings.security.table_name
        self._settings = settings
        self._client = client
        self._clock = clock

    def revoke(self, body: object, revoked_by: str) -> Revocation:
        """Validate a request body and store the revocation."""
        now = int(self._clock())
        request = parse_request(body, self._settings, now)
        issuer = None
        if request.scheme is None:
            key = revoked_jti_key(request.value)
        else:
            issuer = self._settings.issuer_of(request.scheme)
            key = revoked_subject_key(request.scheme, issuer, request.value)
        item = {
            "pk": {"S": key},
            "kind": {"S": REVOCATION_KIND},
            "target": {"S": request.kind},
            "value": {"S": request.value},
            "revoked_at": {"N": str(now)},
            "revoked_by": {"S": revoked_by},
            # The item lapses when its token stops passing: `exp` plus the authorizer's skew.
            "expires_at": {"N": str(request.expires_at + self._settings.clock_skew_seconds)},
            "token_expires_at": {"N": str(request.expires_at)},
        }
        if request.scheme is not None and issuer is not None:
            item["before"] = {"N": str(now)}
            item["scheme"] = {"S": request.scheme}
            item["issuer"] = {"S": issuer}
        self._call("put_item", TableName=self._table, Item=item)
        return Revocation(
            request.kind, request.value, now, request.expires_at, revoked_by, request.scheme, issuer
        )

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
    return RevocationStore(AuthorizerSettings.from_env(os.environ), new_client())


def _revocation(item: Mapping[str, Any]) -> Revocation | None:
    try:
        return Revocation(
            kind=item["target"]["S"],
            value=item["value"]["S"],
            revoked_at=int(item["revoked_at"]["N"]),
            expires_at=int(item.get("token_expires_at", item["expires_at"])["N"]),
            revoked_by=item["revoked_by"]["S"],
            scheme=item.get("scheme", {}).get("S"),
            issuer=item.get("issuer", {}).get("S"),
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
