"""Issuing, rotating and revoking API keys: the logic behind `/api/admin/api-keys` (SPEC
sections 2, 3 and 6). Plain typed code; the three handlers only parse HTTP and call it.

- Issue: a new key id, the key's secret in the SPEC format, and its rotation schedule (the
  rotation function, `RotateImmediately=False` so the key handed out stays current).
- Rotate now: `RotateSecret` on the key's secret; 409 while a rotation is in progress.
- Revoke: a new AWSCURRENT version marked `revoked` (the authorizer then refuses the key, and
  its AWSPREVIOUS with it), any half-done rotation disarmed, the schedule cancelled and the
  secret scheduled for deletion.

Every action writes one audit line: who did it and to which key id, never the key value.
Secrets Manager errors are translated here, at the boundary: botocore never reaches a handler.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from shared.caller import Caller
from shared.observability import logger, metrics
from shared.routes import ROUTES
from shared.scopes import MAX_SCOPES, is_valid_scope
from shared.secret_formats import (
    KEY_ID_PATTERN,
    ApiKeyRecord,
    SecretFormatError,
    api_key_secret_name,
)
from shared.settings import ConfigurationError, env_int, env_str

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
#: Staging label of the version that revoked a key (it also carries AWSCURRENT). Writing the
#: revoked version under its own label and then moving AWSCURRENT, instead of writing it
#: straight as AWSCURRENT, uses the one label operation finishSecret uses too.
REVOKED_STAGE = "REVOKED"

DEFAULT_PREFIX = "workflow-api/api-keys/"
DEFAULT_ROTATE_AFTER_DAYS = 90
#: Secrets Manager's own bounds for `RotationRules.AutomaticallyAfterDays`.
MIN_ROTATE_AFTER_DAYS, MAX_ROTATE_AFTER_DAYS = 1, 1000
#: Secrets Manager's bounds for `RecoveryWindowInDays`.
MIN_RECOVERY_DAYS, MAX_RECOVERY_DAYS = 7, 30
DEFAULT_RECOVERY_DAYS = 7
#: Principals end up in policies' principalId, audit lines and the request context.
PRINCIPAL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
CREATE_FIELDS = frozenset({"principal", "scopes", "rotateAfterDays"})
#: Attempts at drawing an unused key id (16 characters of [a-z0-9]: a clash is ~never).
KEY_ID_ATTEMPTS = 3


class AdminError(Exception):
    """Root of the errors the admin endpoints answer with an HTTP status."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidRequestError(AdminError):
    """The request is malformed: body, principal, scopes, rotateAfterDays or key id (400)."""


class NotAdminError(AdminError):
    """The caller lacks `workflow:admin` or uses a scheme the route does not take (403); the
    authorizer's policy should have prevented it."""


class KeyNotFoundError(AdminError):
    """No such key, or it is already revoked and scheduled for deletion (404)."""


class RotationInProgressError(AdminError):
    """A rotation of the key has started and not finished (409)."""


class BackendError(AdminError):
    """Secrets Manager failed or holds something unexpected (500)."""


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """Configuration of the three admin functions. Secret names only, never secret values."""

    api_key_secret_prefix: str = DEFAULT_PREFIX
    rotation_function_arn: str | None = None
    rotate_after_days: int = DEFAULT_ROTATE_AFTER_DAYS
    recovery_window_days: int = DEFAULT_RECOVERY_DAYS

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, needs_rotation_function: bool = True
    ) -> AdminSettings:
        env = os.environ if env is None else env
        settings = cls(
            api_key_secret_prefix=env_str(env, "API_KEY_SECRET_PREFIX", DEFAULT_PREFIX) or "",
            rotation_function_arn=env_str(env, "ROTATION_FUNCTION_ARN"),
            rotate_after_days=env_int(
                env, "API_KEY_ROTATE_AFTER_DAYS", DEFAULT_ROTATE_AFTER_DAYS, minimum=1
            ),
            recovery_window_days=env_int(
                env, "API_KEY_RECOVERY_WINDOW_DAYS", DEFAULT_RECOVERY_DAYS, minimum=7
            ),
        )
        if needs_rotation_function and not settings.rotation_function_arn:
            raise ConfigurationError("ROTATION_FUNCTION_ARN must be set")
        if settings.rotate_after_days > MAX_ROTATE_AFTER_DAYS:
            raise ConfigurationError(
                f"API_KEY_ROTATE_AFTER_DAYS must be at most {MAX_ROTATE_AFTER_DAYS}"
            )
        if settings.recovery_window_days > MAX_RECOVERY_DAYS:
            raise ConfigurationError(
                f"API_KEY_RECOVERY_WINDOW_DAYS must be at most {MAX_RECOVERY_DAYS}"
            )
        return settings


@dataclass(frozen=True, slots=True)
class IssueRequest:
    principal: str
    scopes: tuple[str, ...]
    rotate_after_days: int


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    api_key: str = field(repr=False)
    """The key value: in the response once, never logged (kept out of `repr` too)."""
    principal: str
    scopes: tuple[str, ...]
    rotate_after_days: int


@dataclass(frozen=True, slots=True)
class RotationStarted:
    key_id: str
    version_id: str


@dataclass(frozen=True, slots=True)
class RevokedKey:
    key_id: str
    deletion_date: datetime | None


def require_route(caller: Caller, function: str) -> Caller:
    """Defence in depth: the caller's scheme and scopes must be those the route table gives
    `function`'s route (the authorizer's policy already enforced them)."""
    route = next(route for route in ROUTES if route.function == function)
    if caller.scheme not in route.allowed_schemes:
        raise NotAdminError("scheme_not_allowed")
    if route.scope is not None and not caller.grants.allows(route.scope):
        raise NotAdminError("not_admin")
    return caller


def parse_key_id(raw: str | None) -> str:
    if raw is None or not KEY_ID_PATTERN.fullmatch(raw):
        raise InvalidRequestError("malformed_key_id")
    return raw


def parse_issue_request(body: str | None, default_days: int) -> IssueRequest:
    """The POST body: `{"principal": str, "scopes": [str], "rotateAfterDays"?: int}`."""
    if not body:
        raise InvalidRequestError("missing_body")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequestError("malformed_body") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("malformed_body")
    if set(data) - CREATE_FIELDS:
        raise InvalidRequestError("unknown_field")
    principal = data.get("principal")
    if not isinstance(principal, str) or not PRINCIPAL_PATTERN.fullmatch(principal):
        raise InvalidRequestError("invalid_principal")
    return IssueRequest(
        principal, _parse_scopes(data.get("scopes")), _parse_days(data, default_days)
    )


def _parse_scopes(scopes: object) -> tuple[str, ...]:
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise InvalidRequestError("invalid_scopes")
    unique = tuple(dict.fromkeys(scopes))
    if len(unique) > MAX_SCOPES or not all(is_valid_scope(scope) for scope in unique):
        raise InvalidRequestError("invalid_scopes")
    return unique


def _parse_days(data: Mapping[str, Any], default: int) -> int:
    days = data.get("rotateAfterDays", default)
    # bool is an int in Python; `true` is no number of days.
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidRequestError("invalid_rotate_after_days")
    if not MIN_ROTATE_AFTER_DAYS <= days <= MAX_ROTATE_AFTER_DAYS:
        raise InvalidRequestError("invalid_rotate_after_days")
    return days


class ApiKeyAdmin:
    """The three admin actions against Secrets Manager."""

    def __init__(self, client: SecretsManagerClient, settings: AdminSettings) -> None:
        self._client = client
        self._settings = settings

    def issue(self, actor: Caller, request: IssueRequest) -> IssuedKey:
        rotation_function = self._rotation_function()
        record, arn = self._create_secret(request)
        try:
            # Turn the schedule on without rotating now: the value handed out stays current.
            # (Secrets Manager runs testSecret once to check the configuration.)
            self._client.rotate_secret(
                SecretId=arn,
                RotationLambdaARN=rotation_function,
                RotationRules={"AutomaticallyAfterDays": request.rotate_after_days},
                RotateImmediately=False,
            )
        except (ClientError, BotoCoreError) as error:
            # A key without its rotation schedule is never handed out: take it back.
            self._discard(arn)
            raise BackendError(_code(error, "schedule_failed")) from error
        _audit("api key issued", "ApiKeyIssued", actor, record.key_id, principal=record.principal,
               scopes=list(record.scopes), rotate_after_days=request.rotate_after_days)  # fmt: skip
        return IssuedKey(
            record.key_id,
            record.api_key,
            record.principal,
            record.scopes,
            request.rotate_after_days,
        )

    def rotate(self, actor: Caller, key_id: str) -> RotationStarted:
        metadata = self._describe(key_id)
        if _rotation_in_progress(metadata.get("VersionIdsToStages", {})):
            raise RotationInProgressError("rotation_in_progress")
        # The configured function and rules are passed again (AWS keeps them as they are):
        # a secret whose schedule was never set up gets the default one here.
        rules: Any = (
            metadata.get("RotationRules")
            if metadata.get("RotationEnabled")
            else {"AutomaticallyAfterDays": self._settings.rotate_after_days}
        )
        function = metadata.get("RotationLambdaARN") or self._rotation_function()
        try:
            response = self._client.rotate_secret(
                SecretId=metadata["ARN"], RotationLambdaARN=function, RotationRules=rules
            )
        except ClientError as error:
            if _code(error) == "InvalidRequestException":
                # "A previous rotation isn't complete", or the key was revoked meanwhile.
                raise RotationInProgressError("rotation_refused") from error
            raise BackendError(_code(error)) from error
        except BotoCoreError as error:
            raise BackendError("secrets_unavailable") from error
        version_id = response.get("VersionId", "")
        _audit("api key rotation started", "ApiKeyRotationStarted", actor, key_id,
               version_id=version_id)  # fmt: skip
        return RotationStarted(key_id, version_id)

    def revoke(self, actor: Caller, key_id: str) -> RevokedKey:
        metadata = self._describe(key_id)
        arn = metadata["ARN"]
        versions = metadata.get("VersionIdsToStages", {})
        current_id = next((v for v, stages in versions.items() if CURRENT in stages), None)
        if current_id is None:
            raise BackendError("no_current_version")
        try:
            current = self._client.get_secret_value(SecretId=arn, VersionStage=CURRENT)
            record = ApiKeyRecord.parse(current["SecretString"])
            if not record.revoked:
                # Revoked first, deleted second: a failure in between leaves a refused key,
                # and a retried DELETE finds it revoked and carries on.
                revoked = ApiKeyRecord(record.api_key, record.principal, record.scopes, True)
                written = self._client.put_secret_value(
                    SecretId=arn,
                    SecretString=revoked.to_secret_string(),
                    VersionStages=[REVOKED_STAGE],
                )
                self._client.update_secret_version_stage(
                    SecretId=arn,
                    VersionStage=CURRENT,
                    MoveToVersionId=written["VersionId"],
                    RemoveFromVersionId=current_id,
                )
            # Disarm a half-done rotation: its pending value is not revoked and must never
            # become AWSCURRENT (the secret may still be restored within the recovery window).
            # A label left on the old AWSCURRENT by a finished rotation goes too: that version
            # is AWSPREVIOUS now, where AWSPENDING would read as a rotation in progress.
            for version_id, stages in versions.items():
                if PENDING in stages:
                    self._client.update_secret_version_stage(
                        SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=version_id
                    )
            if metadata.get("RotationEnabled"):
                self._client.cancel_rotate_secret(SecretId=arn)
            deleted = self._client.delete_secret(
                SecretId=arn, RecoveryWindowInDays=self._settings.recovery_window_days
            )
        except (KeyError, SecretFormatError) as error:
            raise BackendError("malformed_secret") from error
        except (ClientError, BotoCoreError) as error:
            raise BackendError(_code(error, "revoke_failed")) from error
        deletion_date = deleted.get("DeletionDate")
        _audit("api key revoked", "ApiKeyRevoked", actor, key_id,
               deletion_date=deletion_date.isoformat() if deletion_date else None)  # fmt: skip
        return RevokedKey(key_id, deletion_date)

    # -- helpers -------------------------------------------------------------------------

    def _rotation_function(self) -> str:
        if not self._settings.rotation_function_arn:
            raise ConfigurationError("ROTATION_FUNCTION_ARN must be set")
        return self._settings.rotation_function_arn

    def _create_secret(self, request: IssueRequest) -> tuple[ApiKeyRecord, str]:
        for _ in range(KEY_ID_ATTEMPTS):
            record = ApiKeyRecord.issue(request.principal, request.scopes)
            try:
                created = self._client.create_secret(
                    Name=api_key_secret_name(self._settings.api_key_secret_prefix, record.key_id),
                    SecretString=record.to_secret_string(),
                    Description=f"Workflow API key {record.key_id} of {request.principal}",
                )
            except ClientError as error:
                if _code(error) == "ResourceExistsException":
                    continue  # the id is taken (or awaits deletion): draw another
                raise BackendError(_code(error)) from error
            except BotoCoreError as error:
                raise BackendError("secrets_unavailable") from error
            return record, created["ARN"]
        raise BackendError("key_id_exhausted")

    def _discard(self, arn: str) -> None:
        try:
            self._client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        except (ClientError, BotoCoreError):
            # Never handed out and never rotated: an orphan to clean up, not a usable key.
            logger.error("api key secret left behind", secret_arn=arn)

    def _describe(self, key_id: str) -> Any:
        name = api_key_secret_name(self._settings.api_key_secret_prefix, key_id)
        try:
            metadata = self._client.describe_secret(SecretId=name)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                raise KeyNotFoundError("unknown_key") from None
            raise BackendError(_code(error)) from error
        except BotoCoreError as error:
            raise BackendError("secrets_unavailable") from error
        if metadata.get("DeletedDate"):
            raise KeyNotFoundError("deleted_key")  # revoked earlier: unknown to the authorizer
        return metadata


def _rotation_in_progress(versions: Mapping[str, Sequence[str]]) -> bool:
    """AWSPENDING on a version other than AWSCURRENT is how Secrets Manager itself tells an
    unfinished rotation (RotateSecret refuses to start another)."""
    return any(PENDING in stages and CURRENT not in stages for stages in versions.values())


def _code(error: ClientError | BotoCoreError, default: str = "secrets_unavailable") -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or default)
    return default


def _audit(message: str, metric: str, actor: Caller, key_id: str, **fields: Any) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(
        message,
        audit=True,
        actor=actor.principal,
        actor_scheme=actor.scheme,
        actor_client_id=actor.client_id,
        key_id=key_id,
        **fields,
    )
