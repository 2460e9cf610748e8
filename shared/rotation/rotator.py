"""Secrets Manager rotation of this project's three kinds of secret: the signing key, API keys
and token-service clients (their client secret).

The four steps follow AWS's rotation protocol and its reference template
(aws-samples/aws-secrets-manager-rotation-lambdas, `SecretsManagerRotationTemplate`):

- `createSecret` writes the new value as the AWSPENDING version named by the token;
- `setSecret` has nothing to set: the authorizer reads Secrets Manager itself, so the secret
  *is* the credential store; it only proves the pending value is there and well formed;
- `testSecret` proves the pending value works, through the authorizer's own verification code
  (injected as a `PendingValueTester`, because `shared/` must not depend on `authorizer/`);
- `finishSecret` moves AWSCURRENT to the pending version (Secrets Manager then labels the old
  one AWSPREVIOUS, which the authorizer keeps accepting) and removes AWSPENDING from it.

Secrets Manager retries whole rotations, so every step is idempotent: it reads the state first
and does only what is still missing. Which kind of secret is rotated is decided by its content,
never by comparing the secret id with configuration (the event names the secret by ARN).
No secret value is ever logged or put in an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from shared import aws
from shared.secret_formats import (
    AWSCURRENT,
    AWSPENDING,
    ApiKeyRecord,
    ClientRecord,
    SecretFormatError,
    SigningKey,
    is_client_secret,
    is_signing_secret,
    new_api_key,
    new_signing_secret,
    parse_signing_secret,
    signing_secret_kid,
)
from shared.settings import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class Step(StrEnum):
    """The four steps Secrets Manager invokes, in order, with one ClientRequestToken."""

    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


class SecretKind(StrEnum):
    SIGNING_KEY = "signing_key"
    API_KEY = "api_key"
    CLIENT = "client"


class Outcome(StrEnum):
    DONE = "done"
    """The step did its work."""
    ALREADY_DONE = "already_done"
    """A retry: the step's work was found done (createSecret's pending value exists)."""
    ALREADY_CURRENT = "already_current"
    """The token's version is already AWSCURRENT: a silent no-op (a retried, finished rotation)."""


class RotationError(Exception):
    """A step cannot proceed. Raised to Secrets Manager, which marks the rotation failed and
    retries it; `reason` is a stable code for the log and never contains a secret value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PendingValueTester(Protocol):
    """What `testSecret` asks of the authorizer's verification code."""

    def signing_key_works(self, key: SigningKey) -> bool:
        """A token signed with `key` passes the authorizer's service-token verification."""
        ...

    def api_key_works(self, record: ApiKeyRecord) -> bool:
        """The record's key value is accepted by the authorizer's API key comparison."""
        ...

    def client_secret_works(self, record: ClientRecord) -> bool:
        """The record's client secret is accepted by the token service's comparison."""
        ...


@dataclass(frozen=True, slots=True)
class RotationRequest:
    """The rotation event: `{"Step", "SecretId", "ClientRequestToken", "RotationToken"}`."""

    step: Step
    secret_id: str
    token: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RotationRequest:
        step, secret_id, token = (
            event.get("Step"),
            event.get("SecretId"),
            event.get("ClientRequestToken"),
        )
        if not isinstance(step, str) or step not in Step.__members__.values():
            raise RotationError("unknown_step")
        if not isinstance(secret_id, str) or not secret_id:
            raise RotationError("malformed_event")
        if not isinstance(token, str) or not token:
            raise RotationError("malformed_event")
        return cls(Step(step), secret_id, token)


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    outcome: Outcome
    secret_arn: str
    kind: SecretKind | None = None
    """None when the step was a no-op decided before reading the secret's content."""
    public_id: str | None = None
    """The new signing key's kid, the API key's id or the client id: identifiers, never secret
    values."""


class Rotator:
    """Runs one rotation step against Secrets Manager."""

    def __init__(self, client: SecretsManagerClient, tester: PendingValueTester) -> None:
        self._client = client
        self._tester = tester
        self._steps: dict[Step, Callable[[_Context], StepResult]] = {
            Step.CREATE: self._create,
            Step.SET: self._set,
            Step.TEST: self._test,
            Step.FINISH: self._finish,
        }

    def run(self, request: RotationRequest) -> StepResult:
        metadata = self._client.describe_secret(SecretId=request.secret_id)
        arn = metadata["ARN"]
        # The guards of AWS's rotation template, in its order.
        if not metadata.get("RotationEnabled"):
            raise RotationError("rotation_disabled")
        versions = metadata.get("VersionIdsToStages", {})
        stages = versions.get(request.token)
        if stages is None:
            raise RotationError("unknown_version")
        if AWSCURRENT in stages:
            if request.step is Step.FINISH and AWSPENDING in stages:
                # A finishSecret that moved AWSCURRENT and stopped before removing AWSPENDING:
                # complete it, or the stray label blocks the next rotation (moto refuses it;
                # AWS treats AWSPENDING on AWSCURRENT as finished, so this is harmless there).
                self._drop_pending(arn, request.token)
                return StepResult(request.step, Outcome.DONE, arn)
            return StepResult(request.step, Outcome.ALREADY_CURRENT, arn)
        if AWSPENDING not in stages:
            raise RotationError("not_pending")
        current = self._value(arn, stage=AWSCURRENT)
        if current is None:
            raise RotationError("no_current_value")
        context = _Context(arn, request.token, _kind_of(current), current, versions)
        return self._steps[request.step](context)

    # -- the four steps ------------------------------------------------------------------

    def _create(self, ctx: _Context) -> StepResult:
        existing = self._value(ctx.arn, stage=AWSPENDING, version_id=ctx.token)
        if existing is not None:
            # Written by an earlier attempt with this token. A version's value is immutable:
            # an unusable one cannot be replaced here, and setSecret/testSecret refuse it.
            return StepResult(
                Step.CREATE, Outcome.ALREADY_DONE, ctx.arn, ctx.kind, _public_id(ctx, existing)
            )
        value = self._new_value(ctx)
        self._client.put_secret_value(
            SecretId=ctx.arn,
            ClientRequestToken=ctx.token,
            SecretString=value,
            VersionStages=[AWSPENDING],
        )
        return StepResult(Step.CREATE, Outcome.DONE, ctx.arn, ctx.kind, _public_id(ctx, value))

    def _set(self, ctx: _Context) -> StepResult:
        # Nothing to set: the authorizer reads this secret directly, there is no other
        # credential store to update. Check what the next steps rely on, change nothing.
        pending = self._require_pending(ctx)
        return StepResult(Step.SET, Outcome.DONE, ctx.arn, ctx.kind, _public_id(ctx, pending))

    def _test(self, ctx: _Context) -> StepResult:
        pending = self._require_pending(ctx)
        if ctx.kind is SecretKind.SIGNING_KEY:
            key = parse_signing_secret(pending)  # checked by _require_pending
            if not self._tester.signing_key_works(key):
                raise RotationError("pending_key_rejected")
        elif ctx.kind is SecretKind.CLIENT:
            client = ClientRecord.parse(pending)
            if client.identity() != ClientRecord.parse(ctx.current).identity():
                # A rotation changes the secret only: never who the client is or what it gets.
                raise RotationError("pending_identity_changed")
            if client.client_secret is None or not self._tester.client_secret_works(client):
                raise RotationError("pending_key_rejected")
        else:
            record = ApiKeyRecord.parse(pending)
            current = ApiKeyRecord.parse(ctx.current)
            if (record.key_id, record.principal, record.scopes) != (
                current.key_id,
                current.principal,
                current.scopes,
            ):
                # A rotation changes the value only: never who the key is or what it may do.
                raise RotationError("pending_identity_changed")
            if not self._tester.api_key_works(record):
                raise RotationError("pending_key_rejected")
        return StepResult(Step.TEST, Outcome.DONE, ctx.arn, ctx.kind, _public_id(ctx, pending))

    def _finish(self, ctx: _Context) -> StepResult:
        # Never promote an empty or foreign version, even when invoked out of order.
        pending = self._require_pending(ctx)
        current_id = _version_with(ctx.versions, AWSCURRENT)
        if current_id is None:
            raise RotationError("no_current_version")
        # Moving AWSCURRENT makes Secrets Manager label the old version AWSPREVIOUS, which the
        # authorizer keeps accepting (signing keys; API keys within their grace window).
        self._client.update_secret_version_stage(
            SecretId=ctx.arn,
            VersionStage=AWSCURRENT,
            MoveToVersionId=ctx.token,
            RemoveFromVersionId=current_id,
        )
        self._drop_pending(ctx.arn, ctx.token)
        return StepResult(Step.FINISH, Outcome.DONE, ctx.arn, ctx.kind, _public_id(ctx, pending))

    # -- helpers -------------------------------------------------------------------------

    def _new_value(self, ctx: _Context) -> str:
        if ctx.kind is SecretKind.SIGNING_KEY:
            old_kid = signing_secret_kid(ctx.current)
            while True:  # a repeated kid would make AWSCURRENT and AWSPREVIOUS ambiguous
                value = new_signing_secret()
                if parse_signing_secret(value).kid != old_kid:
                    return value
        if ctx.kind is SecretKind.CLIENT:
            client = ClientRecord.parse(ctx.current)
            if client.client_secret is None:
                # A key-only client has no secret: its keys are the client's to rotate.
                raise RotationError("no_client_secret")
            # Same client id, keys, scopes and lifetime; a revoked client stays revoked.
            return client.with_new_secret().to_secret_string()
        current = ApiKeyRecord.parse(ctx.current)
        # Same key id, principal and scopes; a revoked key stays revoked.
        return ApiKeyRecord(
            new_api_key(current.key_id), current.principal, current.scopes, current.revoked
        ).to_secret_string()

    def _require_pending(self, ctx: _Context) -> str:
        pending = self._value(ctx.arn, stage=AWSPENDING, version_id=ctx.token)
        if pending is None:
            raise RotationError("pending_value_missing")
        try:
            if ctx.kind is SecretKind.SIGNING_KEY:
                parse_signing_secret(pending)
            elif ctx.kind is SecretKind.CLIENT:
                ClientRecord.parse(pending)
            else:
                ApiKeyRecord.parse(pending)
        except (ConfigurationError, SecretFormatError):
            raise RotationError("pending_value_malformed") from None
        return pending

    def _value(self, arn: str, *, stage: str, version_id: str | None = None) -> str | None:
        """The SecretString of a version, or None when it has no value (yet)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415 - in the runtime, not the layer

        try:
            if version_id is None:
                response = self._client.get_secret_value(SecretId=arn, VersionStage=stage)
            else:
                response = self._client.get_secret_value(
                    SecretId=arn, VersionId=version_id, VersionStage=stage
                )
        except ClientError as error:
            # Secrets Manager's answer for the empty version RotateSecret creates. Other errors
            # go to Secrets Manager as they are: it marks the rotation failed and retries.
            if aws.error_code(error) == "ResourceNotFoundException":
                return None
            raise
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise RotationError("not_a_string_secret")
        return value

    def _drop_pending(self, arn: str, token: str) -> None:
        self._client.update_secret_version_stage(
            SecretId=arn, VersionStage=AWSPENDING, RemoveFromVersionId=token
        )


@dataclass(frozen=True, slots=True)
class _Context:
    arn: str
    token: str
    kind: SecretKind
    current: str
    versions: Mapping[str, Sequence[str]]


def _kind_of(current: str) -> SecretKind:
    if is_signing_secret(current):
        return SecretKind.SIGNING_KEY
    if is_client_secret(current):
        try:
            ClientRecord.parse(current)
        except SecretFormatError:
            raise RotationError("unknown_secret_kind") from None
        return SecretKind.CLIENT
    try:
        ApiKeyRecord.parse(current)
    except SecretFormatError:
        raise RotationError("unknown_secret_kind") from None
    return SecretKind.API_KEY


def _public_id(ctx: _Context, value: str) -> str | None:
    if ctx.kind is SecretKind.SIGNING_KEY:
        return signing_secret_kid(value)
    if ctx.kind is SecretKind.CLIENT:
        try:
            return ClientRecord.parse(value).client_id
        except SecretFormatError:
            return None
    try:
        return ApiKeyRecord.parse(value).key_id
    except SecretFormatError:
        return None


def _version_with(versions: Mapping[str, Sequence[str]], stage: str) -> str | None:
    return next((version for version, stages in versions.items() if stage in stages), None)
