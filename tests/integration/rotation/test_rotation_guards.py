"""The protocol's guards (AWS's rotation template), refusals, metrics and log hygiene of the
rotation function."""

from __future__ import annotations

import json

import pytest

from shared.rotation import RotationError
from shared.secret_formats import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    ApiKeyRecord,
    new_signing_secret,
)
from tests.integration.rotation.support import (
    STEPS,
    Aws,
    FakeLambdaContext,
    create_api_key_secret,
    create_signing_secret,
    run_rotation,
    run_step,
    start_rotation,
    value_of,
    versions,
)

UNKNOWN_TOKEN = "00000000-0000-4000-8000-000000000000"


def _fails(step: str, secret_id: str, token: str, reason: str) -> None:
    with pytest.raises(RotationError) as raised:
        run_step(step, secret_id, token)
    assert raised.value.reason == reason


@pytest.mark.parametrize("step", STEPS)
def test_rotation_disabled_raises(aws: Aws, step: str) -> None:
    arn = create_signing_secret(aws)
    put = aws.sm.put_secret_value(
        SecretId=arn, SecretString=new_signing_secret(), VersionStages=[AWSPENDING]
    )
    before = versions(aws, arn)
    _fails(step, arn, put["VersionId"], "rotation_disabled")
    assert versions(aws, arn) == before


@pytest.mark.parametrize("step", STEPS)
def test_a_token_that_is_no_version_raises(aws: Aws, step: str) -> None:
    arn = create_signing_secret(aws)
    start_rotation(aws, arn)
    before = versions(aws, arn)
    _fails(step, arn, UNKNOWN_TOKEN, "unknown_version")
    assert versions(aws, arn) == before


@pytest.mark.parametrize("step", STEPS)
def test_a_token_already_current_is_a_silent_no_op(aws: Aws, step: str) -> None:
    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    run_rotation(arn, token)
    after = versions(aws, arn)
    run_step(step, arn, token)  # no exception
    assert versions(aws, arn) == after


@pytest.mark.parametrize("step", STEPS)
def test_a_version_not_pending_raises(aws: Aws, step: str) -> None:
    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    run_rotation(arn, token)
    (previous,) = [vid for vid, v in versions(aws, arn).items() if AWSPREVIOUS in v.stages]
    before = versions(aws, arn)
    _fails(step, arn, previous, "not_pending")
    assert versions(aws, arn) == before


@pytest.mark.parametrize("step", ["setSecret", "testSecret", "finishSecret"])
def test_later_steps_refuse_an_empty_pending_version(aws: Aws, step: str) -> None:
    """finishSecret in particular must never promote the empty version to AWSCURRENT."""
    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    before = versions(aws, arn)
    _fails(step, arn, token, "pending_value_missing")
    assert versions(aws, arn) == before


def test_a_secret_of_neither_kind_is_refused(aws: Aws) -> None:
    arn = aws.sm.create_secret(Name="something-else", SecretString='{"password": "x"}')["ARN"]
    token = start_rotation(aws, arn)
    _fails("createSecret", arn, token, "unknown_secret_kind")
    assert versions(aws, arn)[token].value is None


def test_test_secret_refuses_a_weak_pending_signing_key(aws: Aws) -> None:
    arn = create_signing_secret(aws)
    start_rotation(aws, arn)  # enables rotation; the weak value then takes AWSPENDING over
    weak = json.dumps({"kid": "weak", "key": "x" * 31})
    put = aws.sm.put_secret_value(SecretId=arn, SecretString=weak, VersionStages=[AWSPENDING])
    assert versions_with(aws, arn, AWSPENDING) == put["VersionId"]
    _fails("testSecret", arn, put["VersionId"], "pending_value_malformed")
    _fails("finishSecret", arn, put["VersionId"], "pending_value_malformed")
    assert value_of(aws, arn, AWSCURRENT) != weak


def test_test_secret_refuses_a_pending_api_key_with_other_scopes(aws: Aws) -> None:
    """A rotation changes the key value only, never its principal or scopes."""
    record = ApiKeyRecord.issue("reporting", ["workflow:read"])
    arn, _ = create_api_key_secret(aws, record)
    token = start_rotation(aws, arn)
    run_step("createSecret", arn, token)
    widened = ApiKeyRecord.issue("reporting", ["workflow:admin"], key_id=record.key_id)
    put = aws.sm.put_secret_value(
        SecretId=arn, SecretString=widened.to_secret_string(), VersionStages=[AWSPENDING]
    )
    _fails("testSecret", arn, put["VersionId"], "pending_identity_changed")
    assert value_of(aws, arn, AWSCURRENT) == record.to_secret_string()


def test_malformed_events_are_refused(aws: Aws) -> None:
    from functions.rotate_secret import app  # noqa: PLC0415

    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    unknown_step = {"Step": "dropSecret", "SecretId": arn, "ClientRequestToken": token}
    with pytest.raises(RotationError, match="unknown_step"):
        app.lambda_handler(unknown_step, FakeLambdaContext())
    with pytest.raises(RotationError, match="malformed_event"):
        app.lambda_handler({"Step": "createSecret", "SecretId": arn}, FakeLambdaContext())
    assert versions(aws, arn)[token].value is None


def test_metrics_count_steps_and_failures(
    aws: Aws, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    capsys.readouterr()
    run_step("createSecret", arn, token)
    emitted = _metric_blobs(capsys.readouterr().out)
    assert [blob.get("RotationStep") for blob in emitted] == [[1.0]]
    assert not [blob for blob in emitted if "RotationFailed" in blob]
    with pytest.raises(RotationError):
        run_step("createSecret", arn, UNKNOWN_TOKEN)
    out = capsys.readouterr().out
    assert [blob.get("RotationFailed") for blob in _metric_blobs(out)] == [[1.0]]
    (failure,) = [r for r in caplog.records if r.getMessage() == "rotation step failed"]
    assert failure.levelname == "ERROR"
    assert failure.__dict__["reason"] == "unknown_version"


@pytest.mark.parametrize("kind", ["signing", "api_key"])
def test_no_secret_value_is_ever_logged(
    aws: Aws, kind: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    arn = create_signing_secret(aws) if kind == "signing" else create_api_key_secret(aws)[0]
    token = start_rotation(aws, arn)
    run_rotation(arn, token)
    with pytest.raises(RotationError):
        run_step("finishSecret", arn, versions_with(aws, arn, AWSPREVIOUS))
    # Every field of every log record (extras included) and everything printed (metrics).
    out = capsys.readouterr().out + "".join(repr(r.__dict__) for r in caplog.records)
    assert len(caplog.records) == 5
    values = [v.value for v in versions(aws, arn).values() if v.value]
    assert len(values) == 2
    for value in values:
        data = json.loads(value)
        secret = data["key"] if kind == "signing" else data["api_key"].split("_", 2)[2]
        assert secret not in out


def versions_with(aws: Aws, arn: str, stage: str) -> str:
    (found,) = [vid for vid, v in versions(aws, arn).items() if stage in v.stages]
    return found


def _metric_blobs(out: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]
