"""The four rotation steps, in order, twice, for both kinds of secret, through
the rotation function's handler against Secrets Manager in moto."""

from __future__ import annotations

import json

import pytest

from shared.secret_formats import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    ApiKeyRecord,
    parse_signing_secret,
)
from tests.integration.rotation.support import (
    Aws,
    Version,
    create_api_key_secret,
    create_signing_secret,
    run_step,
    start_rotation,
    versions,
)


def _check_new_value(kind: str, old: str, new: str) -> None:
    """What createSecret must produce from the current value."""
    assert new != old
    if kind == "signing":
        old_key, new_key = parse_signing_secret(old), parse_signing_secret(new)
        assert new_key.kid != old_key.kid
        assert len(new_key.key) >= 32
        assert new_key.key != old_key.key
    else:
        old_record, new_record = ApiKeyRecord.parse(old), ApiKeyRecord.parse(new)
        assert new_record.key_id == old_record.key_id
        assert new_record.principal == old_record.principal
        assert new_record.scopes == old_record.scopes
        assert new_record.revoked is False
        assert new_record.api_key != old_record.api_key


@pytest.mark.parametrize("kind", ["signing", "api_key"])
def test_two_rotations_in_a_row(aws: Aws, kind: str) -> None:
    arn = create_signing_secret(aws) if kind == "signing" else create_api_key_secret(aws)[0]
    (first_id,) = versions(aws, arn)
    current_id, older_id = first_id, None

    for _ in range(2):
        token = start_rotation(aws, arn)
        before = versions(aws, arn)
        assert before[token] == Version((AWSPENDING,), None)  # the empty version SM adds
        current_value = before[current_id].value
        assert current_value is not None
        assert before[current_id].stages == (AWSCURRENT,)

        run_step("createSecret", arn, token)
        after_create = versions(aws, arn)
        assert after_create[token].stages == (AWSPENDING,)
        pending_value = after_create[token].value
        assert pending_value is not None
        _check_new_value(kind, current_value, pending_value)
        assert after_create[current_id] == before[current_id]  # the current version untouched

        run_step("setSecret", arn, token)
        assert versions(aws, arn) == after_create  # setSecret changes nothing
        run_step("testSecret", arn, token)
        assert versions(aws, arn) == after_create  # neither does testSecret

        run_step("finishSecret", arn, token)
        after_finish = versions(aws, arn)
        assert after_finish[token].stages == (AWSCURRENT,)
        assert after_finish[token].value == pending_value
        assert after_finish[current_id].stages == (AWSPREVIOUS,)
        assert after_finish[current_id].value == current_value
        if older_id is not None:
            assert after_finish[older_id].stages == ()  # AWSPREVIOUS moved on
        assert not [v for v in after_finish.values() if AWSPENDING in v.stages]
        assert [v for v in after_finish.values() if v.value is None] == []
        older_id, current_id = current_id, token

    assert len(versions(aws, arn)) == 3


def test_the_secret_may_be_named_by_name_or_arn(aws: Aws) -> None:
    """Events carry the ARN, configuration the name; the kind comes from the content."""
    arn = create_signing_secret(aws)
    name = aws.sm.describe_secret(SecretId=arn)["Name"]
    token = start_rotation(aws, name)
    for step, secret_id in zip(
        ("createSecret", "setSecret", "testSecret", "finishSecret"),
        (name, arn, name, arn),
        strict=True,
    ):
        run_step(step, secret_id, token)
    assert versions(aws, arn)[token].stages == (AWSCURRENT,)


def test_a_weak_current_signing_key_is_rotated_away(aws: Aws) -> None:
    """A key shorter than 32 bytes is a configuration error for the authorizer; the rotation
    is how an operator gets rid of it, so it must not refuse to read it."""
    weak = json.dumps({"kid": "weak", "key": "too-short"})
    arn = create_signing_secret(aws, weak)
    token = start_rotation(aws, arn)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        run_step(step, arn, token)
    new_value = versions(aws, arn)[token].value
    assert new_value is not None
    assert len(parse_signing_secret(new_value).key) >= 32


def test_a_revoked_key_stays_revoked_and_fails_its_test(aws: Aws) -> None:
    """createSecret keeps `revoked`; testSecret then refuses the value the authorizer refuses."""
    record = ApiKeyRecord.issue("old-batch-job", ["workflow:read"])
    revoked = ApiKeyRecord(record.api_key, record.principal, record.scopes, revoked=True)
    arn, _ = create_api_key_secret(aws, revoked)
    token = start_rotation(aws, arn)
    run_step("createSecret", arn, token)
    pending = versions(aws, arn)[token].value
    assert pending is not None
    assert ApiKeyRecord.parse(pending).revoked is True
    with pytest.raises(Exception, match="pending_key_rejected"):
        run_step("testSecret", arn, token)
