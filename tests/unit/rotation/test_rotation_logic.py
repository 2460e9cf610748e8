"""Pure parts of the rotation: the event, the kinds of secret, the new values, testSecret's
proof through the authorizer's verification code. No AWS here (see tests/integration)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.rotate_secret.app import AuthorizerChecks
from shared.rotation import (
    RotationError,
    RotationRequest,
    Rotator,
    SecretKind,
    Step,
)
from shared.rotation import rotator as rotation
from shared.secret_formats import ApiKeyRecord, new_signing_secret, parse_signing_secret
from shared.settings import AuthorizerSettings

TOKEN = "3f8e2a7c-5b1d-4e9f-8a6c-2d4b7e1f9c03"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:workflow-api/jwt-signing-key-AbC123"


@pytest.mark.parametrize("step", list(Step))
def test_a_well_formed_event_is_read(step: Step) -> None:
    event = {"Step": step.value, "SecretId": ARN, "ClientRequestToken": TOKEN, "RotationToken": "r"}
    assert RotationRequest.from_event(event) == RotationRequest(step, ARN, TOKEN)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"Step": "createsecret", "SecretId": ARN, "ClientRequestToken": TOKEN}, "unknown_step"),
        ({"Step": None, "SecretId": ARN, "ClientRequestToken": TOKEN}, "unknown_step"),
        ({"SecretId": ARN, "ClientRequestToken": TOKEN}, "unknown_step"),
        ({"Step": "createSecret", "SecretId": "", "ClientRequestToken": TOKEN}, "malformed_event"),
        ({"Step": "createSecret", "SecretId": 7, "ClientRequestToken": TOKEN}, "malformed_event"),
        ({"Step": "createSecret", "SecretId": ARN}, "malformed_event"),
        ({"Step": "createSecret", "SecretId": ARN, "ClientRequestToken": ""}, "malformed_event"),
    ],
)
def test_a_malformed_event_is_refused(event: dict[str, Any], reason: str) -> None:
    with pytest.raises(RotationError) as raised:
        RotationRequest.from_event(event)
    assert raised.value.reason == reason


def test_the_kind_comes_from_the_content() -> None:
    assert rotation._kind_of(new_signing_secret()) is SecretKind.SIGNING_KEY
    record = ApiKeyRecord.issue("svc", ["workflow:read"])
    assert rotation._kind_of(record.to_secret_string()) is SecretKind.API_KEY
    # A short signing key is still a signing secret: rotating it away must be possible.
    assert rotation._kind_of(json.dumps({"kid": "a", "key": "short"})) is SecretKind.SIGNING_KEY
    for other in ('{"password": "x"}', "plain text", "[]", '{"api_key": "nope"}'):
        with pytest.raises(RotationError, match="unknown_secret_kind"):
            rotation._kind_of(other)


def _context(kind: SecretKind, current: str) -> Any:
    return rotation._Context(ARN, TOKEN, kind, current, {})


def test_a_new_signing_key_never_reuses_the_current_kid(monkeypatch: pytest.MonkeyPatch) -> None:
    current = json.dumps({"kid": "same", "key": "k" * 40})
    draws = iter([json.dumps({"kid": "same", "key": "x" * 64}), new_signing_secret()])
    monkeypatch.setattr(rotation, "new_signing_secret", lambda: next(draws))
    value = Rotator(None, None)._new_value(_context(SecretKind.SIGNING_KEY, current))  # type: ignore[arg-type]
    assert parse_signing_secret(value).kid != "same"


def test_a_new_api_key_value_keeps_id_principal_scopes_and_revocation() -> None:
    record = ApiKeyRecord.issue("svc", ["workflow:read", "workflow:trigger:wf-1"])
    for revoked in (False, True):
        current = ApiKeyRecord(record.api_key, record.principal, record.scopes, revoked)
        value = Rotator(None, None)._new_value(  # type: ignore[arg-type]
            _context(SecretKind.API_KEY, current.to_secret_string())
        )
        new = ApiKeyRecord.parse(value)
        assert (new.key_id, new.principal, new.scopes, new.revoked) == (
            record.key_id,
            record.principal,
            record.scopes,
            revoked,
        )
        assert new.api_key != record.api_key


@pytest.mark.parametrize(
    "settings",
    [
        AuthorizerSettings(),
        AuthorizerSettings(jwt_issuer="https://auth.internal", jwt_audience="workflow-api"),
        AuthorizerSettings(jwt_max_lifetime_seconds=30),  # shorter than the test token's default
    ],
)
def test_test_secret_signs_and_verifies_with_the_authorizer_rules(
    settings: AuthorizerSettings,
) -> None:
    key = parse_signing_secret(new_signing_secret())
    assert AuthorizerChecks(settings).signing_key_works(key) is True


def test_test_secret_fails_when_the_authorizer_would_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The proof is the authorizer's verification, not a copy of it: make that refuse."""
    from authorizer import service_tokens  # noqa: PLC0415
    from authorizer.errors import CredentialError  # noqa: PLC0415

    def refuse(*_: object) -> None:
        raise CredentialError("lifetime_too_long")

    monkeypatch.setattr(service_tokens, "verify_with_key", refuse)
    key = parse_signing_secret(new_signing_secret())
    assert AuthorizerChecks(AuthorizerSettings()).signing_key_works(key) is False
