"""Client-secret rotation, the rotation function's third kind of secret: the four steps, their
guards, and fault injection at each step, with the token service asked for a token with the old
and the new secret all along. No client is refused during or after a rotation; the old secret
stops working once `CLIENT_SECRET_GRACE_SECONDS` have passed since the new one became current."""

from __future__ import annotations

import pytest

from functions.rotate_secret import app
from shared import clients
from shared.rotation import RotationError, Rotator
from shared.secret_formats import AWSCURRENT, AWSPENDING, AWSPREVIOUS, ClientRecord
from tests.integration.clients.support import (
    CLIENT_PREFIX,
    Env,
    assert_refused,
    ec_key,
    register,
    request_token,
)
from tests.integration.rotation.support import (
    STEPS,
    run_rotation,
    run_step,
    start_rotation,
    value_of,
    versions,
)
from tests.integration.rotation.test_rotation_faults import (
    FAULTS,
    FailAfterCall,
    FailAfterStep,
    InjectedFaultError,
)


def _works(client_id: str, secret: str) -> bool:
    answer = request_token(auth=(client_id, secret))
    if answer.status == 200:
        return True
    assert_refused(answer, 401, "invalid_client")
    return False


def _arn(env: Env, client_id: str) -> str:
    return str(env.aws.sm.describe_secret(SecretId=CLIENT_PREFIX + client_id)["ARN"])


def _current(env: Env, arn: str) -> ClientRecord:
    return ClientRecord.parse(value_of(env.aws, arn, AWSCURRENT))


def test_a_rotation_refuses_nobody_and_changes_only_the_secret(env: Env) -> None:
    old = register(env.aws, "svc-1", ("workflow:read",), lifetime=300)
    arn = _arn(env, "svc-1")
    token = start_rotation(env.aws, arn)
    for step in STEPS:
        run_step(step, arn, token)
        # During: the old secret keeps working after every step.
        assert _works("svc-1", str(old.client_secret)), step
    new = _current(env, arn)
    assert new.client_secret not in (None, old.client_secret)
    assert new.identity() == old.identity()
    # After: both work (the old one for the grace window).
    assert _works("svc-1", str(new.client_secret))
    assert _works("svc-1", str(old.client_secret))
    assert versions(env.aws, arn)[token].stages == (AWSCURRENT,)


def test_the_old_secret_stops_after_the_grace_window(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENT_SECRET_GRACE_SECONDS", "0")
    clients.default_service.cache_clear()
    old = register(env.aws, "svc-1")
    arn = _arn(env, "svc-1")
    run_rotation(arn, start_rotation(env.aws, arn))
    assert not _works("svc-1", str(old.client_secret))
    assert _works("svc-1", str(_current(env, arn).client_secret))


def test_a_cached_container_picks_up_the_new_secret_at_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the deployed 60 s secret cache, a warm token function holding the old version
    re-reads the secret once when a presented secret matches nothing it has."""
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "60")
    clients.default_service.cache_clear()
    old = register(env.aws, "svc-1")
    assert _works("svc-1", str(old.client_secret))  # cached now
    arn = _arn(env, "svc-1")
    run_rotation(arn, start_rotation(env.aws, arn))
    assert _works("svc-1", str(_current(env, arn).client_secret))
    assert _works("svc-1", str(old.client_secret))


@pytest.mark.parametrize(("failing_step", "method", "nth"), FAULTS)
def test_a_step_failing_once_then_a_full_rerun_refuses_nobody(
    env: Env, monkeypatch: pytest.MonkeyPatch, failing_step: str, method: str | None, nth: int
) -> None:
    old = register(env.aws, "svc-1")
    arn = _arn(env, "svc-1")
    (original_id,) = versions(env.aws, arn)
    token = start_rotation(env.aws, arn)
    clean = Rotator(env.aws.sm, app.AuthorizerChecks(app.SETTINGS))
    faulty: Rotator | FailAfterStep
    if method is None:
        faulty = FailAfterStep(clean, failing_step)
    else:
        faulty = Rotator(FailAfterCall(env.aws.sm, method, nth), app.AuthorizerChecks(app.SETTINGS))
    monkeypatch.setattr(app, "_rotator", faulty)
    for step in STEPS[: STEPS.index(failing_step) + 1]:
        if step == failing_step:
            with pytest.raises(InjectedFaultError):
                run_step(step, arn, token)
        else:
            run_step(step, arn, token)
        assert _works("svc-1", str(old.client_secret)), step
    # Whatever failed, AWSCURRENT is a whole registration, and the old secret still works.
    current = _current(env, arn)
    assert current.identity() == old.identity()
    written = ClientRecord.parse(str(versions(env.aws, arn)[token].value))

    monkeypatch.setattr(app, "_rotator", clean)
    run_rotation(arn, token)
    end = versions(env.aws, arn)
    assert set(end) == {original_id, token}
    assert end[token].stages == (AWSCURRENT,)
    assert end[original_id].stages == (AWSPREVIOUS,)
    assert not [v for v in end.values() if AWSPENDING in v.stages]
    assert _current(env, arn).client_secret == written.client_secret
    assert _works("svc-1", str(written.client_secret))
    assert _works("svc-1", str(old.client_secret))


def test_a_key_only_client_has_no_secret_to_rotate(env: Env) -> None:
    register(env.aws, "signer", secret=False, jwks={"keys": [ec_key().jwk]})
    arn = _arn(env, "signer")
    token = start_rotation(env.aws, arn)
    with pytest.raises(RotationError, match="no_client_secret"):
        run_step("createSecret", arn, token)


def test_a_revoked_client_stays_revoked(env: Env) -> None:
    old = register(env.aws, "gone-service", revoked=True)
    arn = _arn(env, "gone-service")
    run_rotation(arn, start_rotation(env.aws, arn))
    current = _current(env, arn)
    assert current.revoked is True
    assert not _works("gone-service", str(current.client_secret))
    assert not _works("gone-service", str(old.client_secret))


def test_test_secret_refuses_a_pending_value_that_changes_the_client(env: Env) -> None:
    old = register(env.aws, "svc-1", ("workflow:read",))
    arn = _arn(env, "svc-1")
    token = start_rotation(env.aws, arn)
    widened = ClientRecord("svc-1", None, None, ("workflow:admin",)).with_new_secret()
    env.aws.sm.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=widened.to_secret_string(),
        VersionStages=[AWSPENDING],
    )
    run_step("setSecret", arn, token)
    with pytest.raises(RotationError, match="pending_identity_changed"):
        run_step("testSecret", arn, token)
    assert _current(env, arn).allowed_scopes == old.allowed_scopes
