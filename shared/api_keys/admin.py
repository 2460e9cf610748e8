"""Issuing, rotating and revoking API keys against Secrets Manager: the logic behind
`/api/admin/api-keys` and `wfctl api-keys`.

- Issue: a new key id, the key's secret (`shared.secret_formats`), and its rotation schedule
  (the rotation function, `RotateImmediately=False` so the key handed out stays current).
- Rotate now: `RotateSecret` on the key's secret; a conflict while a rotation is in progress.
- Revoke: a new AWSCURRENT version marked `revoked` (the authorizer then refuses the key, and
  its AWSPREVIOUS with it), any half-done rotation disarmed, the schedule cancelled and the
  secret scheduled for deletion.

Secrets Manager errors are translated by `shared.aws.translated`: nothing from botocore leaves
this module. No key value is ever logged or put in an exception.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared import aws
from shared.api_keys.errors import (
    KeyStoreBusyError,
    KeyStoreFailedError,
    RotationInProgressError,
    UnknownKeyError,
)
from shared.api_keys.requests import (
    DEFAULT_ROTATE_AFTER_DAYS,
    MAX_ROTATE_AFTER_DAYS,
    IssuedKey,
    IssueRequest,
    RevokedKey,
    RotationStarted,
)
from shared.observability import logger
from shared.secret_formats import (
    AWSCURRENT,
    ApiKeyRecord,
    SecretFormatError,
    api_key_secret_name,
)
from shared.secret_lifecycle import (
    current_version,
    revoke_and_delete,
    start_rotation,
)
from shared.settings import DEFAULT_API_KEY_PREFIX, ConfigurationError, env_int, env_str

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


#: Secrets Manager's bounds for `RecoveryWindowInDays`.
MIN_RECOVERY_DAYS, MAX_RECOVERY_DAYS = 7, 30
DEFAULT_RECOVERY_DAYS = 7
SECRETS_MANAGER = aws.Boundary(
    "secretsmanager", "Secrets Manager", busy=KeyStoreBusyError, failed=KeyStoreFailedError
)
#: Attempts at drawing an unused key id (16 characters of [a-z0-9]: a clash is ~never).
KEY_ID_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """Configuration of the three admin functions. Secret names only, never secret values."""

    api_key_secret_prefix: str = DEFAULT_API_KEY_PREFIX
    rotation_function_arn: str | None = None
    """Required to issue or rotate (checked there); revoking does without."""
    rotate_after_days: int = DEFAULT_ROTATE_AFTER_DAYS
    recovery_window_days: int = DEFAULT_RECOVERY_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AdminSettings:
        env = os.environ if env is None else env
        settings = cls(
            api_key_secret_prefix=env_str(env, "API_KEY_SECRET_PREFIX", DEFAULT_API_KEY_PREFIX)
            or "",
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


class ApiKeyAdmin:
    """The three admin actions against Secrets Manager."""

    def __init__(self, settings: AdminSettings, client: SecretsManagerClient) -> None:
        self.settings = settings
        self._client = client

    def issue(self, request: IssueRequest) -> IssuedKey:
        rotation_function = self._rotation_function()
        record, arn = self._create_secret(request)
        try:
            with SECRETS_MANAGER.translated():
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
        version_id = start_rotation(
            self._client,
            SECRETS_MANAGER,
            self._describe(key_id),
            rotation_function=self._rotation_function,
            default_days=self.settings.rotate_after_days,
            in_progress=RotationInProgressError,
        )
        return RotationStarted(key_id, version_id)

    def revoke(self, key_id: str) -> RevokedKey:
        metadata = self._describe(key_id)
        if current_version(metadata) is None:
            raise KeyStoreFailedError(f"key {key_id} has no AWSCURRENT version")
        with SECRETS_MANAGER.translated():
            current = self._client.get_secret_value(
                SecretId=metadata["ARN"], VersionStage=AWSCURRENT
            )
        record = _parse_record(current.get("SecretString"), key_id)
        revoked = ApiKeyRecord(record.api_key, record.principal, record.scopes, True)
        deletion = revoke_and_delete(
            self._client,
            SECRETS_MANAGER,
            metadata,
            None if record.revoked else revoked.to_secret_string(),
            recovery_days=self.settings.recovery_window_days,
        )
        return RevokedKey(key_id, deletion)

    # -- helpers -------------------------------------------------------------------------

    def _rotation_function(self) -> str:
        if not self.settings.rotation_function_arn:
            raise ConfigurationError("ROTATION_FUNCTION_ARN must be set to issue or rotate keys")
        return self.settings.rotation_function_arn

    def _create_secret(self, request: IssueRequest) -> tuple[ApiKeyRecord, str]:
        for _ in range(KEY_ID_ATTEMPTS):
            record = ApiKeyRecord.issue(request.principal, request.scopes)
            try:
                with SECRETS_MANAGER.translated(ResourceExistsException=_KeyIdTakenError):
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
            with SECRETS_MANAGER.translated():
                self._client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        except (KeyStoreBusyError, KeyStoreFailedError):
            # Never handed out and never rotated: an orphan to clean up, not a usable key.
            logger.error("api key secret left behind", secret_arn=arn)

    def _describe(self, key_id: str) -> Any:
        name = api_key_secret_name(self.settings.api_key_secret_prefix, key_id)
        with SECRETS_MANAGER.translated(ResourceNotFoundException=UnknownKeyError):
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


def new_client() -> SecretsManagerClient:
    """The Secrets Manager client (tests replace this function)."""
    client: SecretsManagerClient = SECRETS_MANAGER.client()
    return client


@functools.cache
def default_admin() -> ApiKeyAdmin:
    """The container's admin service, built on first use (tests call `cache_clear()`)."""
    return ApiKeyAdmin(AdminSettings.from_env(), new_client())
