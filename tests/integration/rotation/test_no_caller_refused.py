"""No caller refused (docs/security.md, "Rotation"): while a rotation runs step by step, the
credentials that were current at its start keep passing the real authorizer
(`authorizer.app.lambda_handler`, REQUEST events); after finishSecret the new ones pass too;
the rotated-out API key value stops working once its grace window is over.

The authorizer's secret cache runs on a fake clock. Each check is made twice: with whatever the
authorizer cached before the step, and again after that cache has expired, so both a warm and a
freshly reading container are covered.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from authorizer import app as authorizer_app
from shared.secret_formats import AWSCURRENT, ApiKeyRecord
from shared.settings import AuthorizerSettings
from tests.integration.rotation.support import (
    PREFIX,
    SIGNING_SECRET_NAME,
    STEPS,
    Aws,
    Clocks,
    api_key_call,
    bearer_call,
    create_api_key_secret,
    create_signing_secret,
    real_authorizer,
    run_step,
    service_token,
    start_rotation,
    value_of,
)

GRACE_SECONDS = 3_600
CACHE_SECONDS = 5
SETTINGS = AuthorizerSettings(
    jwt_secret_id=SIGNING_SECRET_NAME,  # configuration names the secret; events carry its ARN
    api_key_secret_prefix=PREFIX,
    api_key_grace_seconds=GRACE_SECONDS,
    secret_cache_seconds=CACHE_SECONDS,
)


@pytest.fixture
def clocks(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Clocks:
    clocks = Clocks()
    monkeypatch.setattr(authorizer_app, "AUTHORIZER", real_authorizer(aws, SETTINGS, clocks))
    return clocks


def _all_allowed(calls: list[Callable[[], str]], clocks: Clocks) -> None:
    assert [call() for call in calls] == ["allow"] * len(calls)
    clocks.advance(CACHE_SECONDS + 1)  # the same again from a cold secret cache
    assert [call() for call in calls] == ["allow"] * len(calls)


def test_signing_key_rotation_refuses_no_caller(aws: Aws, clocks: Clocks) -> None:
    arn = create_signing_secret(aws)
    old = value_of(aws, arn, AWSCURRENT)
    old_with_kid, old_without_kid = service_token(old), service_token(old, with_kid=False)
    old_callers = [lambda: bearer_call(old_with_kid), lambda: bearer_call(old_without_kid)]
    _all_allowed(old_callers, clocks)

    token = start_rotation(aws, arn)
    for step in STEPS:
        run_step(step, arn, token)
        _all_allowed(old_callers, clocks)

    new = value_of(aws, arn, AWSCURRENT)
    assert new != old
    new_with_kid, new_without_kid = service_token(new), service_token(new, with_kid=False)
    # At once, from a warm cache: an unknown kid (or a signature no cached key verifies)
    # makes the authorizer re-read the secret.
    assert bearer_call(new_with_kid) == "allow"
    assert bearer_call(new_without_kid) == "allow"
    _all_allowed([*old_callers, lambda: bearer_call(new_with_kid)], clocks)

    # A second rotation pushes the first key out of AWSPREVIOUS: its tokens stop working.
    second = start_rotation(aws, arn)
    for step in STEPS:
        run_step(step, arn, second)
    clocks.advance(CACHE_SECONDS + 1)
    assert bearer_call(old_with_kid) == "unauthorized"
    assert bearer_call(old_without_kid) == "unauthorized"
    assert bearer_call(new_with_kid) == "allow"


def test_api_key_rotation_refuses_no_caller(
    aws: Aws, clocks: Clocks, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, old_key = create_api_key_secret(aws)
    old_caller = [lambda: api_key_call(old_key)]
    _all_allowed(old_caller, clocks)

    token = start_rotation(aws, arn)
    for step in STEPS:
        run_step(step, arn, token)
        _all_allowed(old_caller, clocks)

    new_key = ApiKeyRecord.parse(value_of(aws, arn, AWSCURRENT)).api_key
    assert new_key != old_key
    # At once, from a warm cache: a value matching neither cached version makes the
    # authorizer re-read the key's secret (once per second per key at most).
    assert api_key_call(new_key) == "allow"
    _all_allowed([lambda: api_key_call(new_key), *old_caller], clocks)

    # The grace window counts from the new version's creation: past it, the old value is
    # refused (and counted as a stale key use, which the template alarms on).
    clocks.advance(GRACE_SECONDS)
    capsys.readouterr()
    assert api_key_call(old_key) == "unauthorized"
    assert '"StaleKeyUse":[1.0]' in capsys.readouterr().out.replace(" ", "")
    assert api_key_call(new_key) == "allow"
