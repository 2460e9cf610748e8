"""Registering, listing, rotating and revoking clients against Secrets Manager: the logic behind
`/api/admin/clients` and `wfctl clients`.

- Register: the client's secret (`shared.secret_formats.ClientRecord`) and, when it has a
  client secret, its rotation schedule (the rotation function, `RotateImmediately=False` so the
  secret handed out stays current).
- Rotate now: `RotateSecret`; a conflict while a rotation is in progress.
- Revoke: a new AWSCURRENT version marked `revoked` (the token service then refuses the client,
  and its AWSPREVIOUS with it), any half-done rotation disarmed, the schedule cancelled and the
  secret scheduled for deletion. Tokens already issued stay valid until they expire (at most
  `TOKEN_LIFETIME_SECONDS`); revoke the subject too to cut that short (docs/security.md).

No client secret is ever logged or put in an exception.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared import aws
from shared.api_errors import InvalidNextTokenError
from shared.clients.errors import (
    ClientExistsError,
    ClientRotationInProgressError,
    ClientStoreBusyError,
    ClientStoreFailedError,
    NoCredentialError,
    UnknownClientError,
)
from shared.clients.requests import (
    ClientRotationStarted,
    ClientSummary,
    RegisteredClient,
    RegisterRequest,
    RevokedClient,
)
from shared.clients.settings import ClientAdminSettings
from shared.observability import logger
from shared.secret_formats import (
    AWSCURRENT,
    CLIENT_ID_PATTERN,
    ClientRecord,
    SecretFormatError,
    client_secret_name,
)
from shared.secret_lifecycle import current_version, revoke_and_delete, start_rotation
from shared.settings import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

SECRETS_MANAGER = aws.Boundary(
    "secretsmanager", "Secrets Manager", busy=ClientStoreBusyError, failed=ClientStoreFailedError
)
KIND_TAG_KEY, KIND_TAG_VALUE = "workflow-api:kind", "client"


class ClientAdmin:
    def __init__(self, settings: ClientAdminSettings, client: SecretsManagerClient) -> None:
        self.settings = settings
        self._client = client

    def register(
        self, request: RegisterRequest, *, schedule_rotation: bool = True
    ) -> RegisteredClient:
        """Register a client; with a secret, its rotation is scheduled (the API always does;
        `wfctl` may leave it out where no rotation function exists)."""
        record = ClientRecord(
            request.client_id,
            None,
            request.jwks,
            request.scopes,
            request.token_lifetime_seconds,
        )
        rotation_function = None
        if request.with_secret:
            if schedule_rotation:
                rotation_function = self._rotation_function()
            record = record.with_new_secret()
        secret = record.client_secret
        with SECRETS_MANAGER.translated(ResourceExistsException=ClientExistsError):
            created = self._client.create_secret(
                Name=self._name(request.client_id),
                SecretString=record.to_secret_string(),
                Description=f"Token service client {request.client_id}",
                Tags=[{"Key": KIND_TAG_KEY, "Value": KIND_TAG_VALUE}],
            )
        if rotation_function is not None:
            try:
                with SECRETS_MANAGER.translated():
                    self._client.rotate_secret(
                        SecretId=created["ARN"],
                        RotationLambdaARN=rotation_function,
                        RotationRules={"AutomaticallyAfterDays": request.rotate_after_days},
                        RotateImmediately=False,
                    )
            except (ClientStoreBusyError, ClientStoreFailedError):
                # A secret without its rotation schedule is never handed out: take it back.
                self._discard(created["ARN"])
                raise
        return RegisteredClient(
            record.client_id, secret, record.allowed_scopes, record.token_lifetime_seconds
        )

    def list(
        self, limit: int = 100, next_token: str | None = None
    ) -> tuple[list[ClientSummary], str | None]:
        """One page of clients (never their secrets), and the token of the next page."""
        arguments: dict[str, Any] = {
            "Filters": [{"Key": "name", "Values": [self.settings.client_secret_prefix]}],
            "MaxResults": limit,
        }
        if next_token is not None:
            arguments["NextToken"] = decode_page_token(next_token)
        with SECRETS_MANAGER.translated(InvalidNextTokenException=InvalidNextTokenError):
            page = self._client.list_secrets(**arguments)
        summaries = list(self._summaries(page.get("SecretList", [])))
        engine_token = page.get("NextToken")
        return summaries, encode_page_token(engine_token) if engine_token else None

    def rotate(self, client_id: str) -> ClientRotationStarted:
        metadata = self._describe(client_id)
        current = self._current(metadata["ARN"], client_id)
        if current.client_secret is None:
            raise NoCredentialError(f"client {client_id} has no secret to rotate")
        version_id = start_rotation(
            self._client,
            SECRETS_MANAGER,
            metadata,
            rotation_function=self._rotation_function,
            default_days=self.settings.rotate_after_days,
            in_progress=ClientRotationInProgressError,
        )
        return ClientRotationStarted(client_id, version_id)

    def revoke(self, client_id: str) -> RevokedClient:
        metadata = self._describe(client_id)
        if current_version(metadata) is None:
            raise ClientStoreFailedError(f"client {client_id} has no AWSCURRENT version")
        record = self._current(metadata["ARN"], client_id)
        date = revoke_and_delete(
            self._client,
            SECRETS_MANAGER,
            metadata,
            None if record.revoked else record.as_revoked().to_secret_string(),
            recovery_days=self.settings.recovery_window_days,
        )
        return RevokedClient(client_id, date.isoformat() if date is not None else None)

    def token_endpoint(self) -> str | None:
        base = self.settings.public_base_url
        return f"{base}/oauth/token" if base else None

    # -- helpers -------------------------------------------------------------------------

    def _name(self, client_id: str) -> str:
        return client_secret_name(self.settings.client_secret_prefix, client_id)

    def _rotation_function(self) -> str:
        if not self.settings.rotation_function_arn:
            raise ConfigurationError("ROTATION_FUNCTION_ARN must be set to register or rotate")
        return self.settings.rotation_function_arn

    def _summaries(self, entries: Sequence[Mapping[str, Any]]) -> Iterator[ClientSummary]:
        prefix = self.settings.client_secret_prefix
        for entry in entries:
            name = str(entry.get("Name", ""))
            client_id = name[len(prefix) :]
            if not name.startswith(prefix) or not CLIENT_ID_PATTERN.fullmatch(client_id):
                continue
            if entry.get("DeletedDate"):
                continue
            record = self._current(str(entry["ARN"]), client_id)
            created = entry.get("CreatedDate")
            yield ClientSummary(
                client_id,
                record.allowed_scopes,
                record.client_secret is not None,
                tuple(str(k.get("kid")) for k in (record.jwks or {}).get("keys", [])),
                record.token_lifetime_seconds,
                record.revoked,
                created.isoformat() if created is not None else None,
            )

    def _current(self, secret_id: str, client_id: str) -> ClientRecord:
        with SECRETS_MANAGER.translated(ResourceNotFoundException=UnknownClientError):
            response = self._client.get_secret_value(SecretId=secret_id, VersionStage=AWSCURRENT)
        try:
            record = ClientRecord.parse(str(response.get("SecretString", "")))
        except SecretFormatError:
            raise ClientStoreFailedError(f"secret of client {client_id} is malformed") from None
        if record.client_id != client_id:
            raise ClientStoreFailedError(f"secret of client {client_id} names another client")
        return record

    def _discard(self, arn: str) -> None:
        try:
            with SECRETS_MANAGER.translated():
                self._client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        except (ClientStoreBusyError, ClientStoreFailedError):
            logger.error("client secret left behind", secret_arn=arn)

    def _describe(self, client_id: str) -> Any:
        with SECRETS_MANAGER.translated(ResourceNotFoundException=UnknownClientError):
            metadata = self._client.describe_secret(SecretId=self._name(client_id))
        if metadata.get("DeletedDate"):
            raise UnknownClientError(f"client {client_id} is scheduled for deletion")
        return metadata


def new_client() -> SecretsManagerClient:
    """The Secrets Manager client (tests replace this function)."""
    client: SecretsManagerClient = SECRETS_MANAGER.client()
    return client


@functools.cache
def default_admin() -> ClientAdmin:
    """The container's admin service, built on first use (tests call `cache_clear()`)."""
    return ClientAdmin(ClientAdminSettings.from_env(), new_client())


#: Secrets Manager's own tokens are at most 4096 characters; ours wrap them.
MAX_PAGE_TOKEN_CHARS = 6000


def encode_page_token(engine_token: str) -> str:
    """The `nextToken` of a client listing: Secrets Manager's token, wrapped so that a token
    from anywhere else is refused (400) before Secrets Manager sees it."""
    raw = json.dumps({"clients": engine_token}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(token: str) -> str:
    """Secrets Manager's token inside a `nextToken` this listing issued; else
    `InvalidNextTokenError`."""
    if not token or len(token) > MAX_PAGE_TOKEN_CHARS:
        raise InvalidNextTokenError("nextToken empty or too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidNextTokenError("nextToken does not decode") from None
    engine = data.get("clients") if isinstance(data, dict) else None
    if not isinstance(engine, str) or not engine:
        raise InvalidNextTokenError("nextToken was not issued by the client listing")
    return engine
