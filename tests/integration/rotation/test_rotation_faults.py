"""Fault injection: each step fails once after its write (or, for the steps that write nothing,
after all its work), then Secrets Manager reruns the whole rotation with the same token. The
end state must be the one a clean rotation leaves, with no version lost or duplicated."""

from __future__ import annotations

from typing import Any

import pytest

from functions.rotate_secret import app
from shared.rotation import RotationRequest, Rotator, StepResult
from shared.secret_formats import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    ApiKeyRecord,
    parse_signing_secret,
)
from tests.integration.rotation.support import (
    STEPS,
    Aws,
    create_api_key_secret,
    create_signing_secret,
    run_rotation,
    run_step,
    start_rotation,
    value_of,
    versions,
)


class InjectedFaultError(RuntimeError):
    """Stands for a Lambda timeout or crash right after a write reached Secrets Manager."""


class FailAfterCall:
    """Delegates to the real client; the `nth` call of `method` succeeds, then raises once."""

    def __init__(self, client: Any, method: str, nth: int = 1) -> None:
        self._client, self._method, self._nth = client, method, nth
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name != self._method:
            return real

        def call(**kwargs: Any) -> Any:
            result = real(**kwargs)
            self.calls += 1
            if self.calls == self._nth:
                raise InjectedFaultError(f"after {name} #{self._nth}")
            return result

        return call


class FailAfterStep:
    """The step does all its work, then the invocation dies before reporting success."""

    def __init__(self, inner: Rotator, step: str) -> None:
        self._inner, self._step, self.fired = inner, step, False

    def run(self, request: RotationRequest) -> StepResult:
        result = self._inner.run(request)
        if request.step.value == self._step and not self.fired:
            self.fired = True
            raise InjectedFaultError(f"after {self._step}")
        return result


#: (step that fails, how): the write-level faults hit the step's Secrets Manager writes.
FAULTS = [
    pytest.param("createSecret", "put_secret_value", 1, id="create-after-put"),
    pytest.param("setSecret", None, 0, id="set-after-step"),
    pytest.param("testSecret", None, 0, id="test-after-step"),
    pytest.param("finishSecret", "update_secret_version_stage", 1, id="finish-after-move-current"),
    pytest.param("finishSecret", "update_secret_version_stage", 2, id="finish-after-drop-pending"),
]


def _healthy(aws: Aws, arn: str, kind: str) -> None:
    """AWSCURRENT always holds a usable value, whatever step failed."""
    current = value_of(aws, arn, AWSCURRENT)
    if kind == "signing":
        parse_signing_secret(current)
    else:
        ApiKeyRecord.parse(current)


@pytest.mark.parametrize("kind", ["signing", "api_key"])
@pytest.mark.parametrize(("failing_step", "method", "nth"), FAULTS)
def test_a_step_failing_once_then_a_full_rerun_ends_correctly(
    aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    failing_step: str,
    method: str | None,
    nth: int,
) -> None:
    arn = create_signing_secret(aws) if kind == "signing" else create_api_key_secret(aws)[0]
    (original_id,) = versions(aws, arn)
    original_value = value_of(aws, arn, AWSCURRENT)
    token = start_rotation(aws, arn)

    clean = Rotator(aws.sm, app.AuthorizerChecks(app.SETTINGS))
    faulty: Rotator | FailAfterStep
    if method is None:
        faulty = FailAfterStep(clean, failing_step)
    else:
        faulty = Rotator(FailAfterCall(aws.sm, method, nth), app.AuthorizerChecks(app.SETTINGS))
    monkeypatch.setattr(app, "_rotator", faulty)

    # The first attempt: steps up to the failing one, which raises after its write.
    for step in STEPS[: STEPS.index(failing_step) + 1]:
        if step == failing_step:
            with pytest.raises(InjectedFaultError):
                run_step(step, arn, token)
        else:
            run_step(step, arn, token)
    _healthy(aws, arn, kind)
    written = versions(aws, arn)[token].value
    assert written is not None  # createSecret's write survived the failure

    # Secrets Manager retries the whole rotation with the same token.
    monkeypatch.setattr(app, "_rotator", clean)
    run_rotation(arn, token)

    end = versions(aws, arn)
    assert set(end) == {original_id, token}  # no version lost, none added by the retry
    assert end[token].stages == (AWSCURRENT,)
    assert end[token].value == written  # the retry reused the first attempt's value
    assert end[original_id].stages == (AWSPREVIOUS,)
    assert end[original_id].value == original_value
    assert not [v for v in end.values() if AWSPENDING in v.stages]
    _healthy(aws, arn, kind)

    # And the next scheduled rotation starts cleanly from there.
    second = start_rotation(aws, arn)
    run_rotation(arn, second)
    assert versions(aws, arn)[second].stages == (AWSCURRENT,)
    assert versions(aws, arn)[token].stages == (AWSPREVIOUS,)


def test_the_injected_failure_is_counted(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    faulty = Rotator(FailAfterCall(aws.sm, "put_secret_value"), app.AuthorizerChecks(app.SETTINGS))
    monkeypatch.setattr(app, "_rotator", faulty)
    capsys.readouterr()
    with pytest.raises(InjectedFaultError):
        run_step("createSecret", arn, token)
    assert '"RotationFailed":[1.0]' in capsys.readouterr().out.replace(" ", "")
