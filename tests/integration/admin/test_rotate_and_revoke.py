"""`POST /api/admin/api-keys/{keyId}/rotate` and `DELETE /api/admin/api-keys/{keyId}` through
their handlers, with the rotation function and the real authorizer next to them."""

from __future__ import annotations

import pytest

from authorizer import app as authorizer_app
from shared.api_keys import REVOKED_STAGE
from shared.rotation import RotationError
from shared.secret_formats import AWSCURRENT, AWSPENDING, AWSPREVIOUS, ApiKeyRecord
from shared.settings import AuthorizerSettings
from tests.conftest import LogLines
from tests.integration.admin.admin_support import (
    invoke,
    issue,
    revoke_event,
    rotate_event,
    settle_configuration_test,
)
from tests.integration.rotation.support import (
    PREFIX,
    STEPS,
    Aws,
    Clocks,
    api_key_call,
    real_authorizer,
    run_rotation,
    run_step,
    value_of,
    versions,
)

UNKNOWN_KEY_ID = "zzzzzzzzzzzzzzzz"
MALFORMED_KEY_IDS = ["NOTAKEYID0000000", "short", "demokey00000000-", "demokey0000000001"]
AUTHORIZER_SETTINGS = AuthorizerSettings(api_key_secret_prefix=PREFIX)


@pytest.fixture
def key(aws: Aws) -> tuple[str, str]:
    """(key id, key value) of a key issued through the create handler."""
    answer = issue({"principal": "billing-service", "scopes": ["workflow:read"]})
    settle_configuration_test(aws, PREFIX + answer.body["keyId"])
    return answer.body["keyId"], answer.body["apiKey"]


@pytest.fixture
def clocks(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Clocks:
    clocks = Clocks()
    built = real_authorizer(aws, AUTHORIZER_SETTINGS, clocks)
    monkeypatch.setattr(authorizer_app, "AUTHORIZER", built)
    return clocks


# -- rotate now ---------------------------------------------------------------------------


def test_rotate_now_starts_a_rotation_the_function_completes(
    aws: Aws, key: tuple[str, str], clocks: Clocks
) -> None:
    key_id, old_value = key
    name = PREFIX + key_id
    answer = invoke("rotate_api_key", rotate_event(key_id))
    assert answer.status == 202
    assert answer.body["keyId"] == key_id
    token = answer.body["versionId"]
    assert versions(aws, name)[token].stages == (AWSPENDING,)

    # Secrets Manager now invokes the rotation function (moto cannot: we do).
    run_rotation(name, token)
    new = ApiKeyRecord.parse(value_of(aws, name, AWSCURRENT))
    assert new.api_key != old_value
    assert (new.key_id, new.principal, new.scopes) == (
        key_id,
        "billing-service",
        ("workflow:read",),
    )
    clocks.advance(AUTHORIZER_SETTINGS.secret_cache_seconds + 1)
    assert api_key_call(new.api_key) == "allow"
    assert api_key_call(old_value) == "allow"  # AWSPREVIOUS, within the grace window


def test_rotate_now_while_a_rotation_runs_is_409(aws: Aws, key: tuple[str, str]) -> None:
    key_id, _ = key
    first = invoke("rotate_api_key", rotate_event(key_id))
    assert first.status == 202
    run_step("createSecret", PREFIX + key_id, first.body["versionId"])
    again = invoke("rotate_api_key", rotate_event(key_id))
    assert (again.status, again.body["error"]) == (409, "rotation_in_progress")
    # Once that rotation finished, another may start.
    for step in STEPS[1:]:
        run_step(step, PREFIX + key_id, first.body["versionId"])
    assert invoke("rotate_api_key", rotate_event(key_id)).status == 202


def test_rotate_now_audits_who_rotated_which_key(
    aws: Aws, key: tuple[str, str], log_lines: LogLines
) -> None:
    key_id, _ = key
    invoke("rotate_api_key", rotate_event(key_id, principal="alice", principalId="alice"))
    (audit,) = [line for line in log_lines() if line.get("action") == "api_key.rotation_started"]
    assert (audit["principal"], audit["api_key_id"]) == ("alice", key_id)


# -- revoke -------------------------------------------------------------------------------


def test_revoke_marks_the_key_revoked_and_schedules_deletion(
    aws: Aws, key: tuple[str, str], clocks: Clocks
) -> None:
    key_id, value = key
    name = PREFIX + key_id
    (issued_version,) = [vid for vid, v in versions(aws, name).items() if AWSCURRENT in v.stages]
    answer = invoke("revoke_api_key", revoke_event(key_id))
    assert answer.status == 200
    assert answer.body["keyId"] == key_id
    assert answer.body["revoked"] is True
    assert answer.body["deletionDate"]

    described = aws.sm.describe_secret(SecretId=name)
    assert described.get("DeletedDate") is not None
    assert described["RotationEnabled"] is False
    # Restored (as an operator could within the recovery window), the key is still revoked.
    aws.sm.restore_secret(SecretId=name)
    stages = versions(aws, name)
    (revoked_version,) = [vid for vid, v in stages.items() if AWSCURRENT in v.stages]
    assert stages[revoked_version].stages == tuple(sorted((AWSCURRENT, REVOKED_STAGE)))
    assert stages[issued_version].stages == (AWSPREVIOUS,)  # nothing lost
    assert ApiKeyRecord.parse(value_of(aws, name, AWSCURRENT)).revoked is True
    assert ApiKeyRecord.parse(value_of(aws, name, AWSPREVIOUS)).api_key == value
    assert api_key_call(value) == "unauthorized"


@pytest.mark.parametrize("cache_seconds", [5, 60])  # Powertools' default; the template's
def test_revocation_bound_is_the_authorizer_secret_cache(
    aws: Aws, key: tuple[str, str], monkeypatch: pytest.MonkeyPatch, cache_seconds: int
) -> None:
    """Measured: how long a warm authorizer keeps allowing a revoked key. API Gateway's own
    result cache (the template's `ReauthorizeEvery`) comes on top of this."""
    settings = AuthorizerSettings(api_key_secret_prefix=PREFIX, secret_cache_seconds=cache_seconds)
    clocks = Clocks()
    monkeypatch.setattr(authorizer_app, "AUTHORIZER", real_authorizer(aws, settings, clocks))
    key_id, value = key
    assert api_key_call(value) == "allow"  # warms the authorizer's cache
    assert invoke("revoke_api_key", revoke_event(key_id)).status == 200
    allowed_for = 0
    while api_key_call(value) == "allow":
        clocks.advance(1)
        allowed_for += 1
        assert allowed_for <= 2 * cache_seconds, "a revoked key must not stay usable"
    assert allowed_for == cache_seconds
    clocks.advance(3600)
    assert api_key_call(value) == "unauthorized"


def test_revoke_during_a_rotation_disarms_it(aws: Aws, key: tuple[str, str]) -> None:
    """The pending value of a half-done rotation is not revoked: it must never go live."""
    key_id, _ = key
    name = PREFIX + key_id
    token = invoke("rotate_api_key", rotate_event(key_id)).body["versionId"]
    run_step("createSecret", name, token)
    assert invoke("revoke_api_key", revoke_event(key_id)).status == 200
    aws.sm.restore_secret(SecretId=name)
    assert not [v for v in versions(aws, name).values() if AWSPENDING in v.stages]
    assert aws.sm.describe_secret(SecretId=name)["RotationEnabled"] is False
    with pytest.raises(RotationError):
        run_step("finishSecret", name, token)
    assert ApiKeyRecord.parse(value_of(aws, name, AWSCURRENT)).revoked is True


def test_revoke_clears_a_pending_label_left_on_the_current_version(
    aws: Aws, key: tuple[str, str]
) -> None:
    """AWS counts AWSPENDING on AWSCURRENT as a finished rotation; once revocation moves
    AWSCURRENT away, that label would read as a rotation in progress."""
    key_id, _ = key
    name = PREFIX + key_id
    (current,) = [vid for vid, v in versions(aws, name).items() if AWSCURRENT in v.stages]
    aws.sm.update_secret_version_stage(
        SecretId=name, VersionStage=AWSPENDING, MoveToVersionId=current
    )
    assert invoke("revoke_api_key", revoke_event(key_id)).status == 200
    aws.sm.restore_secret(SecretId=name)
    assert not [v for v in versions(aws, name).values() if AWSPENDING in v.stages]
    assert versions(aws, name)[current].stages == (AWSPREVIOUS,)


def test_a_second_revoke_and_a_rotate_after_revoke_are_404(aws: Aws, key: tuple[str, str]) -> None:
    key_id, _ = key
    assert invoke("revoke_api_key", revoke_event(key_id)).status == 200
    assert invoke("revoke_api_key", revoke_event(key_id)).status == 404
    assert invoke("rotate_api_key", rotate_event(key_id)).status == 404


def test_revoke_audits_who_revoked_which_key(
    aws: Aws, key: tuple[str, str], log_lines: LogLines
) -> None:
    key_id, value = key
    invoke("revoke_api_key", revoke_event(key_id))
    (audit,) = [line for line in log_lines() if line.get("action") == "api_key.revoked"]
    assert (audit["principal"], audit["api_key_id"]) == ("ops-admin", key_id)
    assert value.split("_", 2)[2] not in "".join(map(repr, log_lines()))


# -- errors common to both ------------------------------------------------------------------


@pytest.mark.parametrize("function", ["rotate_api_key", "revoke_api_key"])
def test_unknown_key_is_404(aws: Aws, function: str) -> None:
    event = (rotate_event if function == "rotate_api_key" else revoke_event)(UNKNOWN_KEY_ID)
    answer = invoke(function, event)
    assert (answer.status, answer.body["error"]) == (404, "unknown_key")


@pytest.mark.parametrize("function", ["rotate_api_key", "revoke_api_key"])
@pytest.mark.parametrize("key_id", MALFORMED_KEY_IDS)
def test_malformed_key_id_is_400(aws: Aws, function: str, key_id: str) -> None:
    event = (rotate_event if function == "rotate_api_key" else revoke_event)(key_id)
    answer = invoke(function, event)
    assert (answer.status, answer.body["error"]) == (400, "invalid_key_id")


@pytest.mark.parametrize("function", ["rotate_api_key", "revoke_api_key"])
def test_a_caller_without_admin_is_403_and_changes_nothing(
    aws: Aws, key: tuple[str, str], function: str
) -> None:
    key_id, _ = key
    before = versions(aws, PREFIX + key_id)
    make = rotate_event if function == "rotate_api_key" else revoke_event
    answer = invoke(function, make(key_id, scopes="workflow:trigger workflow:read"))
    assert (answer.status, answer.body["error"]) == (403, "forbidden")
    assert versions(aws, PREFIX + key_id) == before
    assert aws.sm.describe_secret(SecretId=PREFIX + key_id).get("DeletedDate") is None


@pytest.mark.parametrize("function", ["rotate_api_key", "revoke_api_key"])
def test_secrets_manager_down_is_503_retry_later(
    aws: Aws, key: tuple[str, str], function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

    def unreachable(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")

    monkeypatch.setattr(aws.sm, "describe_secret", unreachable)
    key_id, _ = key
    make = rotate_event if function == "rotate_api_key" else revoke_event
    answer = invoke(function, make(key_id))
    assert (answer.status, answer.body["error"]) == (503, "service_unavailable")
    assert answer.headers["Retry-After"]
