"""Issuing, rotating and revoking API keys: the logic behind `/api/admin/api-keys` (SPEC
sections 2, 3 and 6). Plain typed code with domain errors from `shared.api_errors`; the HTTP
glue is `shared.admin_api`.

- Issue: a new key id, the key's secret in the SPEC format, and its rotation schedule (the
  rotation function, `RotateImmediately=False` so the key handed out stays current).
- Rotate now: `RotateSecret` on the key's secret; a conflict while a rotation is in progress.
- Revoke: a new AWSCURRENT version marked `revoked` (the authorizer then refuses the key, and
  its AWSPREVIOUS with it), any half-done rotation disarmed, the schedule cancelled and the
  secret scheduled for deletion.

Secrets Manager errors are translated here, at the boundary: nothing from botocore leaves
this module. No key value is ever logged or put in an exception.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.api_errors import (
    ConflictError,
    DependencyBusyError,
    DependencyFailedError,
    InvalidRequestError,
    MalformedBodyError,
    NotFoundError,
)
from shared.observability import logger
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
#: Secrets Manager error codes worth retrying later (503), the rest is 502.
_RETRYABLE_CODES = frozenset({"ThrottlingException", "InternalServiceError", "ServiceUnavailable"})


class InvalidPrincipalError(InvalidRequestError):
    """`principal` is missing or not a short name of safe characters."""

    code = "invalid_principal"
    message = "principal must be 1 to 128 letters, digits or ._:@/+=-, starting alphanumeric."


class InvalidScopesError(InvalidRequestError):
    """`scopes` is not a list of known scopes (narrowed ones included)."""

    code = "invalid_scopes"
    message = "scopes must be a list of known scopes, such as workflow:read or workflow:read:<id>."


class InvalidRotationPeriodError(InvalidRequestError):
    """`rotateAfterDays` is not an integer within Secrets Manager's bounds."""

    code = "invalid_rotate_after_days"
    message = "rotateAfterDays must be an integer from 1 to 1000."


class MalformedKeyIdError(InvalidRequestError):
    """The key id in the path is not 16 lowercase letters or digits."""

    code = "invalid_key_id"
    message = "A key id is 16 lowercase letters or digits."


class UnknownKeyError(NotFoundError):
    """No such key, or it is revoked and scheduled for deletion (the authorizer's view too)."""

    code = "unknown_key"
    message = "No such API key."


class RotationInProgressError(ConflictError):
    """A rotation of the key has started and not finished."""

    code = "rotation_in_progress"
    message = "A rotation of this key is in progress; retry once it has finished."


class KeyStoreBusyError(DependencyBusyError):
    """Secrets Manager throttled us or could not be reached."""

    message = "The key store is busy; retry later."


class KeyStoreFailedError(DependencyFailedError):
    """Secrets Manager refused a call, or holds a secret this project did not write."""

    message = "The key store could not process the request."


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """Configuration of the three admin functions. Secret names only, never secret values."""

    api_key_secret_prefix: str = DEFAULT_PREFIX
    rotation_function_arn: str | None = None
    """Required to issue or rotate (checked there); revoking does without."""
    rotate_after_days: int = DEFAULT_ROTATE_AFTER_DAYS
    recovery_window_days: int = DEFAULT_RECOVERY_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AdminSettings:
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


def parse_key_id(raw: str | None) -> str:
    if raw is None or not KEY_ID_PATTERN.fullmatch(raw):
        raise MalformedKeyIdError("malformed key id in the path")
    return raw


def parse_issue_request(body: Any, default_days: int) -> IssueRequest:
    """The POST body, parsed: `{"principal": str, "scopes": [str], "rotateAfterDays"?: int}`."""
    if not isinstance(body, dict):
        raise MalformedBodyError("body is missing or not a JSON object")
    unknown = set(body) - CREATE_FIELDS
    if unknown:
        raise MalformedBodyError(f"unknown fields {sorted(unknown)[:5]!r}"[:200])
    principal = body.get("principal")
    if not isinstance(principal, str) or not PRINCIPAL_PATTERN.fullmatch(principal):
        raise InvalidPrincipalError("principal missing or malformed")
    return IssueRequest(
        principal, _parse_scopes(body.get("scopes")), _parse_days(body, default_days)
    )


def _parse_scopes(scopes: object) -> tuple[str, ...]:
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise InvalidScopesError("scopes missing or not a list of strings")
    unique = tuple(dict.fromkeys(scopes))
    if len(unique) > MAX_SCOPES:
        raise InvalidScopesError(f"{len(unique)} scopes")
    if not all(is_valid_scope(scope) for scope in unique):
        raise InvalidScopesError("unknown or malformed scope")
    return unique


def _parse_days(body: Mapping[str, Any], default: int) -> int:
    days = body.get("rotateAfterDays", default)
    # bool is an int in Python; `true` is no number of days.
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidRotationPeriodError("rotateAfterDays is not an integer")
    if not MIN_ROTATE_AFTER_DAYS <= days <= MAX_ROTATE_AFTER_DAYS:
        raise InvalidRotationPeriodError(f"rotateAfterDays {days} out of bounds")
    return days


class ApiKeyAdmin:
    """The three admin actions against Secrets Manager."""

    def __init__(self, settings: AdminSettings, client: SecretsManagerClient) -> None:
        self.settings = settings
        self._client = client

    def issue(self, request: IssueRequest) -> IssuedKey:
        rotation_function = self._rotation_function()
        record, arn = self._create_secret(request)
        try:
            with _translated():
                # Turn the schedule on without rotating now: the value handed out stays
                # current. (Secrets Manager runs testSecret once to check the configuration.)
                self._client.rotate_secret(
                    SecretId=arn,
                    RotationLambdaARN=rotation_function,
                    RotationRules={"AutomaticallyAfterDays": request.rotate_after_days},
                    RotateImmediately=False,
                )
        except (KeyStoreBusyError, KeyStoreFailedError):
            # A key without its rotation schedule is never handed out: take it back.
            self._discard(arn)
            raise
        return IssuedKey(
            record.key_id,
            record.api_key,
            record.principal,
            record.scopes,
            request.rotate_after_days,
        )

    def rotate(self, key_id: str) -> RotationStarted:
        metadata = self._describe(key_id)
        if _rotation_in_progress(metadata.get("VersionIdsToStages", {})):
            raise RotationInProgressError(f"key {key_id} has a pending version")
        # The configured function and rules are passed again (AWS keeps them as they are;
        # moto forgets the function when it is left out); a secret whose schedule was never
        # set up gets the default one here.
        rules: Any = (
            metadata.get("RotationRules")
            if metadata.get("RotationEnabled")
            else {"AutomaticallyAfterDays": self.settings.rotate_after_days}
        )
        function = metadata.get("RotationLambdaARN") or self._rotation_function()
        # "A previous rotation isn't complete", or the key was revoked meanwhile.
        with _translated(InvalidRequestException=RotationInProgressError):
            response = self._client.rotate_secret(
                SecretId=metadata["ARN"], RotationLambdaARN=function, RotationRules=rules
            )
        return RotationStarted(key_id, response.get("VersionId", ""))

    def revoke(self, key_id: str) -> RevokedKey:
        metadata = self._describe(key_id)
        arn = metadata["ARN"]
        versions = metadata.get("VersionIdsToStages", {})
        current_id = next((v for v, stages in versions.items() if CURRENT in stages), None)
        if current_id is None:
            raise KeyStoreFailedError(f"key {key_id} has no AWSCURRENT version")
        with _translated():
            current = self._client.get_secret_value(SecretId=arn, VersionStage=CURRENT)
            record = _parse_record(current.get("SecretString"), key_id)
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
                SecretId=arn, RecoveryWindowInDays=self.settings.recovery_window_days
            )
        return RevokedKey(key_id, deleted.get("DeletionDate"))

    # -- helpers -------------------------------------------------------------------------

    def _rotation_function(self) -> str:
        if not self.settings.rotation_function_arn:
            raise ConfigurationError("ROTATION_FUNCTION_ARN must be set to issue or rotate keys")
        return self.settings.rotation_function_arn

    def _create_secret(self, request: IssueRequest) -> tuple[ApiKeyRecord, str]:
        for _ in range(KEY_ID_ATTEMPTS):
            record = ApiKeyRecord.issue(request.principal, request.scopes)
            try:
                with _translated(ResourceExistsException=_KeyIdTakenError):
                    created = self._client.create_secret(
                        Name=api_key_secret_name(
                            self.settings.api_key_secret_prefix, record.key_id
                        ),
                        SecretString=record.to_secret_string(),
                        Description=f"Workflow API key {record.key_id} of {request.principal}",
                    )
            except _KeyIdTakenError:
                continue  # the id is taken (or awaits deletion): draw another
            return record, created["ARN"]
        raise KeyStoreFailedError("no free key id")

    def _discard(self, arn: str) -> None:
        try:
            with _translated():
                self._client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        except (KeyStoreBusyError, KeyStoreFailedError):
            # Never handed out and never rotated: an orphan to clean up, not a usable key.
            logger.error("api key secret left behind", secret_arn=arn)

    def _describe(self, key_id: str) -> Any:
        name = api_key_secret_name(self.settings.api_key_secret_prefix, key_id)
        with _translated(ResourceNotFoundException=UnknownKeyError):
            metadata = self._client.describe_secret(SecretId=name)
        if metadata.get("DeletedDate"):
            # Revoked earlier: unknown to the authorizer, and so here.
            raise UnknownKeyError(f"key {key_id} is scheduled for deletion")
        return metadata


class _KeyIdTakenError(Exception):
    """create_secret found the name taken."""


def _parse_record(secret_string: object, key_id: str) -> ApiKeyRecord:
    try:
        record = ApiKeyRecord.parse(secret_string if isinstance(secret_string, str) else "")
    except SecretFormatError:
        raise KeyStoreFailedError(f"secret of key {key_id} is malformed") from None
    if record.key_id != key_id:
        raise KeyStoreFailedError(f"secret of key {key_id} holds another key")
    return record


def _rotation_in_progress(versions: Mapping[str, Sequence[str]]) -> bool:
    """AWSPENDING on a version other than AWSCURRENT is how Secrets Manager itself tells an
    unfinished rotation (RotateSecret refuses to start another)."""
    return any(PENDING in stages and CURRENT not in stages for stages in versions.values())


@contextmanager
def _translated(**known: type[Exception]) -> Iterator[None]:
    """Turn botocore errors into domain errors; nothing from botocore leaves this module.

    `known` maps a Secrets Manager error code to the error it means for this call. Other codes
    become 503 (retryable) or 502; an unreachable endpoint is 503.
    """
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - import cost

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in known:
            raise known[code](f"Secrets Manager {code}") from exc
        if code in _RETRYABLE_CODES:
            raise KeyStoreBusyError(f"Secrets Manager {code}") from exc
        raise KeyStoreFailedError(f"Secrets Manager {code}") from exc
    except BotoCoreError as exc:
        raise KeyStoreBusyError(f"Secrets Manager unreachable: {type(exc).__name__}") from exc


def new_client() -> SecretsManagerClient:
    """A Secrets Manager client with short timeouts; boto3 is imported on first use."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
    )
    return boto3.client("secretsmanager", config=config)


@functools.cache
def default_admin() -> ApiKeyAdmin:
    """The container's admin service, built on first use (tests call `cache_clear()`)."""
    return ApiKeyAdmin(AdminSettings.from_env(), new_client())
