"""Lambda entry point of the Secrets Manager rotation function.

Rotates the HS256 signing secret, every API key secret and every token-service client secret;
the logic is `shared.rotation`. `testSecret` proves a pending value with the verification code
that will accept it (`authorizer.service_tokens.verify_with_key`,
`authorizer.api_keys.match_api_key`, `shared.clients.secret_matches`), so this
function's build must put the `authorizer` package next to `app.py` (`shared` comes from the
layer, as for every function).

A failing step is logged with a stable reason, counted as `RotationFailed` and re-raised:
Secrets Manager only learns of a failure from the invocation's error, and then retries.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from authorizer.secret_store import SecretStore, SecretVersion
from shared import aws
from shared.observability import logger, metrics
from shared.rotation import RotationError, RotationRequest, Rotator
from shared.secret_formats import AWSCURRENT, AWSPENDING, ApiKeyRecord, ClientRecord, SigningKey
from shared.settings import AuthorizerSettings

#: The token testSecret signs is valid this long at most (and never longer than the authorizer
#: accepts, `JWT_MAX_LIFETIME_SECONDS`).
TEST_TOKEN_SECONDS = 60
TEST_SUBJECT = "secrets-manager-rotation-test"

# The same settings the authorizer reads (issuer, audience, lifetime, skew), so the test token
# is held to exactly the rules real tokens are.
SETTINGS = AuthorizerSettings.from_env()


class AuthorizerChecks:
    """testSecret's proof: the pending value passes the authorizer's own verification code."""

    def __init__(self, settings: AuthorizerSettings, client: Any | None = None) -> None:
        self._settings = settings
        self._client = client

    def signing_key_works(self, key: SigningKey) -> bool:
        # PyJWT (and its cryptography backend) only when a signing key is tested: an API key
        # rotation never pays for the import.
        import jwt  # noqa: PLC0415

        from authorizer.errors import CredentialError  # noqa: PLC0415
        from authorizer.service_tokens import verify_with_key  # noqa: PLC0415

        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": TEST_SUBJECT,
            "iat": now,
            "exp": now + min(TEST_TOKEN_SECONDS, self._settings.jwt_max_lifetime_seconds),
        }
        if self._settings.jwt_issuer:
            claims["iss"] = self._settings.jwt_issuer
        if self._settings.jwt_audience:
            claims["aud"] = self._settings.jwt_audience
        token = jwt.encode(claims, key.key, algorithm="HS256", headers={"kid": key.kid})
        try:
            verify_with_key(token, key, self._settings)
        except (jwt.PyJWTError, CredentialError):
            return False
        return True

    def api_key_works(self, record: ApiKeyRecord) -> bool:
        """The pending value passes the authorizer's real read path: its version read back from
        Secrets Manager under the name the authorizer derives from the key id and
        `API_KEY_SECRET_PREFIX`, parsed and matched by the authorizer's API key verifier.
        (Comparing the record with itself, as this once did, proved nothing.)"""
        from authorizer.api_keys import ApiKey, ApiKeyVerifier  # noqa: PLC0415
        from authorizer.errors import AuthorizerError  # noqa: PLC0415

        verifier = ApiKeyVerifier(self._settings, _PendingStore(0, self._secrets_client))
        try:
            identity = verifier.verify(ApiKey(record.api_key, record.key_id))
        except AuthorizerError:
            return False
        return (identity.principal, identity.scopes) == (record.principal, record.scopes)

    def _secrets_client(self) -> Any:
        if self._client is None:
            self._client = aws.client("secretsmanager")
        return self._client

    def client_secret_works(self, record: ClientRecord) -> bool:
        from shared.clients import secret_matches  # noqa: PLC0415 - only for client rotations

        return record.client_secret is not None and secret_matches(record.client_secret, record)


class _PendingStore(SecretStore):
    """The authorizer's secret store, showing a secret's AWSPENDING version where the
    authorizer reads AWSCURRENT (and nothing where it reads AWSPREVIOUS: the pending value
    must pass on its own)."""

    def get(self, secret_id: str, stage: str, *, refresh: bool = False) -> SecretVersion | None:
        if stage != AWSCURRENT:
            return None
        return super().get(secret_id, AWSPENDING, refresh=True)


_rotator: Rotator | None = None


def rotator() -> Rotator:
    """One per container, created on first use; tests may set `_rotator` beforehand."""
    global _rotator  # noqa: PLW0603 - the per-container cache of an expensive client
    if _rotator is None:
        client = aws.client("secretsmanager")
        _rotator = Rotator(client, AuthorizerChecks(SETTINGS, client))
    return _rotator


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    token = event.get("ClientRequestToken")
    try:
        result = rotator().run(RotationRequest.from_event(event))
    except Exception as error:  # every failure is counted and re-raised, whatever its kind
        metrics.add_metric(name="RotationFailed", unit=MetricUnit.Count, value=1)
        logger.error(
            "rotation step failed",
            step=event.get("Step"),
            secret_id=event.get("SecretId"),
            version_id=token,
            reason=_reason(error),
        )
        raise
    metrics.add_metric(name="RotationStep", unit=MetricUnit.Count, value=1)
    logger.info(
        "rotation step",
        step=result.step.value,
        outcome=result.outcome.value,
        kind=result.kind.value if result.kind else None,
        secret_arn=result.secret_arn,
        version_id=token,
        public_id=result.public_id,
    )


def _reason(error: Exception) -> str:
    """A stable code: never the exception's text, which could echo input."""
    if isinstance(error, RotationError):
        return error.reason
    return aws.error_code(error) or type(error).__name__
