"""testSecret proves a pending API key value through the authorizer's real read path: the
pending version read back from Secrets Manager under the name the authorizer derives, parsed
and matched by the authorizer's verifier. It once compared the pending record with itself,
which passed whatever Secrets Manager held."""

from __future__ import annotations

from dataclasses import replace

from functions.rotate_secret import app
from shared.secret_formats import ApiKeyRecord, api_key_secret_name
from tests.integration.rotation.support import PREFIX, Aws, start_rotation


def pending(aws: Aws, record: ApiKeyRecord, stored: ApiKeyRecord | None = None) -> None:
    """`record`'s secret with a pending version holding `stored` (default: `record`)."""
    name = api_key_secret_name(PREFIX, record.key_id)
    aws.sm.create_secret(Name=name, SecretString=record.to_secret_string())
    token = start_rotation(aws, name)
    aws.sm.put_secret_value(
        SecretId=name,
        ClientRequestToken=token,
        SecretString=(stored or record).to_secret_string(),
        VersionStages=["AWSPENDING"],
    )


def test_the_pending_value_as_stored_passes(aws: Aws) -> None:
    record = ApiKeyRecord.issue("billing", ["workflow:read"])
    pending(aws, record)
    assert app.AuthorizerChecks(app.SETTINGS, aws.sm).api_key_works(record) is True


def test_a_value_that_is_not_what_secrets_manager_holds_fails(aws: Aws) -> None:
    record = ApiKeyRecord.issue("billing", ["workflow:read"])
    other = ApiKeyRecord.issue("billing", ["workflow:read"], key_id=record.key_id)
    pending(aws, record, stored=other)
    assert app.AuthorizerChecks(app.SETTINGS, aws.sm).api_key_works(record) is False


def test_a_revoked_pending_value_fails(aws: Aws) -> None:
    record = ApiKeyRecord.issue("billing", ["workflow:read"])
    revoked = ApiKeyRecord(record.api_key, record.principal, record.scopes, revoked=True)
    pending(aws, record, stored=revoked)
    assert app.AuthorizerChecks(app.SETTINGS, aws.sm).api_key_works(revoked) is False


def test_a_key_the_authorizer_would_not_find_fails(aws: Aws) -> None:
    """A rotation function configured with another prefix than the authorizer's."""
    record = ApiKeyRecord.issue("billing", ["workflow:read"])
    pending(aws, record)
    elsewhere = replace(app.SETTINGS, api_key_secret_prefix="another-stack/api-keys/")
    assert app.AuthorizerChecks(elsewhere, aws.sm).api_key_works(record) is False
