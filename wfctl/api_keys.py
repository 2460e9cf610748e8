"""Issuing, listing, rotating and revoking API keys: one Secrets Manager secret per key.

Rotating writes a new AWSCURRENT version with the same key id, principal and scopes (the
previous value stays valid as AWSPREVIOUS for `API_KEY_GRACE_SECONDS`). Principals, scopes and
key ids are validated by the admin API's own parsers (`shared.api_keys`); issuing with a rotation
schedule and revoking use `shared.api_keys.ApiKeyAdmin` (see `wfctl.__main__`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shared.api_keys import parse_key_id, parse_principal, parse_scopes
from shared.secret_formats import (
    AWSCURRENT,
    KEY_ID_PATTERN,
    ApiKeyRecord,
    api_key_secret_name,
    new_api_key,
)


class ApiKeyError(ValueError):
    """The request cannot be done: the key is unknown or revoked."""


@dataclass(frozen=True, slots=True)
class KeySummary:
    """What `list` shows: never the key value."""

    key_id: str
    principal: str
    scopes: tuple[str, ...]
    revoked: bool
    created: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "keyId": self.key_id,
            "principal": self.principal,
            "scopes": list(self.scopes),
            "revoked": self.revoked,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True)
class KeyDetails:
    """What `show` shows: the summary, the rotation schedule and the last rotation (never the
    key value)."""

    summary: KeySummary
    rotation_enabled: bool
    rotate_after_days: int | None
    rotation_function_arn: str | None
    last_rotated: str | None
    next_rotation: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.summary.as_json(),
            "rotationEnabled": self.rotation_enabled,
            "rotateAfterDays": self.rotate_after_days,
            "rotationFunctionArn": self.rotation_function_arn,
            "lastRotated": self.last_rotated,
            "nextRotation": self.next_rotation,
        }


def create(client: Any, prefix: str, principal: str, scopes: Sequence[str]) -> ApiKeyRecord:
    """Issue a key; the returned record holds the only copy the caller will ever see."""
    record = ApiKeyRecord.issue(parse_principal(principal), parse_scopes(list(scopes)))
    client.create_secret(
        Name=api_key_secret_name(prefix, record.key_id),
        SecretString=record.to_secret_string(),
        Description=f"API key for {principal}",
        Tags=[{"Key": "workflow-api:kind", "Value": "api-key"}],
    )
    return record


def _current(client: Any, prefix: str, key_id: str) -> ApiKeyRecord:
    parse_key_id(key_id)
    try:
        response = client.get_secret_value(
            SecretId=api_key_secret_name(prefix, key_id), VersionStage=AWSCURRENT
        )
    except client.exceptions.ResourceNotFoundException:
        raise ApiKeyError(f"no API key {key_id}") from None
    return ApiKeyRecord.parse(response["SecretString"])


def rotate(client: Any, prefix: str, key_id: str) -> tuple[ApiKeyRecord, str]:
    """A new value for the key now (and its version id); the old value keeps working for the
    grace window."""
    current = _current(client, prefix, key_id)
    if current.revoked:
        raise ApiKeyError(f"API key {key_id} is revoked")
    record = ApiKeyRecord(new_api_key(key_id), current.principal, current.scopes)
    written = client.put_secret_value(
        SecretId=api_key_secret_name(prefix, key_id),
        SecretString=record.to_secret_string(),
        VersionStages=[AWSCURRENT],
    )
    return record, str(written.get("VersionId", ""))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def show(client: Any, prefix: str, key_id: str) -> KeyDetails:
    """One key's metadata from `DescribeSecret` and its current version's principal/scopes."""
    record = _current(client, prefix, key_id)  # validates the id, refuses an unknown key
    entry = client.describe_secret(SecretId=api_key_secret_name(prefix, key_id))
    rules = entry.get("RotationRules") or {}
    days = rules.get("AutomaticallyAfterDays")
    return KeyDetails(
        summary=KeySummary(
            key_id, record.principal, record.scopes, record.revoked, _iso(entry.get("CreatedDate"))
        ),
        rotation_enabled=bool(entry.get("RotationEnabled")),
        rotate_after_days=int(days) if isinstance(days, int) else None,
        rotation_function_arn=entry.get("RotationLambdaARN"),
        last_rotated=_iso(entry.get("LastRotatedDate")),
        next_rotation=_iso(entry.get("NextRotationDate")),
    )


def list_keys(client: Any, prefix: str) -> Iterator[KeySummary]:
    paginator = client.get_paginator("list_secrets")
    for page in paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        for entry in page.get("SecretList", []):
            name = entry.get("Name", "")
            key_id = name[len(prefix) :]
            if not name.startswith(prefix) or not KEY_ID_PATTERN.fullmatch(key_id):
                continue
            if entry.get("DeletedDate"):
                continue
            record = _current(client, prefix, key_id)
            created = entry.get("CreatedDate")
            yield KeySummary(
                key_id,
                record.principal,
                record.scopes,
                record.revoked,
                created.isoformat() if created is not None else None,
            )
