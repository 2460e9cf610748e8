"""Pure parts of the admin endpoints: input parsing, settings, and what each domain error is
answered with by the project's one HTTP mapping (`shared.http_api`)."""

from __future__ import annotations

import pytest

from shared.api_errors import ApiError, MalformedBodyError
from shared.api_keys import (
    AdminSettings,
    InvalidPrincipalError,
    InvalidRotationPeriodError,
    InvalidScopesError,
    IssuedKey,
    IssueRequest,
    KeyStoreBusyError,
    KeyStoreFailedError,
    MalformedKeyIdError,
    RotationInProgressError,
    UnknownKeyError,
    parse_issue_request,
    parse_key_id,
)
from shared.http_api import status_of
from shared.secret_lifecycle import rotation_in_progress as _rotation_in_progress
from shared.settings import ConfigurationError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-secret"


def test_a_valid_body_is_read() -> None:
    body = {
        "principal": "svc:billing@prod",
        "scopes": ["workflow:trigger:wf_1"],
        "rotateAfterDays": 7,
    }
    assert parse_issue_request(body, 90) == IssueRequest(
        "svc:billing@prod", ("workflow:trigger:wf_1",), 7
    )


def test_rotate_after_days_defaults() -> None:
    body = {"principal": "svc", "scopes": ["workflow:read"]}
    assert parse_issue_request(body, 45).rotate_after_days == 45


@pytest.mark.parametrize("days", [1, 1000])
def test_rotate_after_days_bounds_are_secrets_managers(days: int) -> None:
    body = {"principal": "svc", "scopes": [], "rotateAfterDays": days}
    assert parse_issue_request(body, 90).rotate_after_days == days


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (None, MalformedBodyError),
        ([1], MalformedBodyError),
        ("text", MalformedBodyError),
        ({"principal": "svc", "scopes": [], "extra": 1}, MalformedBodyError),
        ({"principal": "-svc", "scopes": []}, InvalidPrincipalError),
        ({"principal": "svc\n", "scopes": []}, InvalidPrincipalError),
        ({"principal": "svc", "scopes": ["workflow:read", None]}, InvalidScopesError),
        ({"principal": "svc", "scopes": [], "rotateAfterDays": 7.0}, InvalidRotationPeriodError),
    ],
)
def test_invalid_bodies(body: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_issue_request(body, 90)


@pytest.mark.parametrize("key_id", ["0123456789abcdef", "demokey000000001"])
def test_well_formed_key_ids(key_id: str) -> None:
    assert parse_key_id(key_id) == key_id


@pytest.mark.parametrize(
    "key_id", [None, "", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "../../x"]
)
def test_malformed_key_ids(key_id: str | None) -> None:
    with pytest.raises(MalformedKeyIdError):
        parse_key_id(key_id)


def test_settings_defaults_and_env() -> None:
    assert AdminSettings.from_env({}) == AdminSettings()
    env = {
        "ROTATION_FUNCTION_ARN": ARN,
        "API_KEY_SECRET_PREFIX": "keys/",
        "API_KEY_ROTATE_AFTER_DAYS": "30",
        "API_KEY_RECOVERY_WINDOW_DAYS": "30",
    }
    assert AdminSettings.from_env(env) == AdminSettings("keys/", ARN, 30, 30)


@pytest.mark.parametrize(
    "env",
    [
        {"API_KEY_ROTATE_AFTER_DAYS": "0"},
        {"API_KEY_ROTATE_AFTER_DAYS": "1001"},
        {"API_KEY_RECOVERY_WINDOW_DAYS": "6"},
        {"API_KEY_RECOVERY_WINDOW_DAYS": "31"},
        {"API_KEY_RECOVERY_WINDOW_DAYS": "a week"},
    ],
)
def test_bad_settings_are_configuration_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        AdminSettings.from_env(env)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (MalformedKeyIdError("x"), 400, "invalid_key_id"),
        (InvalidPrincipalError("x"), 400, "invalid_principal"),
        (InvalidScopesError("x"), 400, "invalid_scopes"),
        (InvalidRotationPeriodError("x"), 400, "invalid_rotate_after_days"),
        (UnknownKeyError("x"), 404, "unknown_key"),
        (RotationInProgressError("x"), 409, "rotation_in_progress"),
        (KeyStoreFailedError("x"), 502, "upstream_error"),
        (KeyStoreBusyError("x"), 503, "service_unavailable"),
    ],
)
def test_each_domain_error_has_its_status(error: ApiError, status: int, code: str) -> None:
    assert (status_of(error), error.code) == (status, code)


def test_the_issued_key_stays_out_of_its_repr() -> None:
    issued = IssuedKey("demokey000000001", "wfk_demokey000000001_" + "s" * 43, "svc", (), 90)
    assert "wfk_" not in repr(issued)


@pytest.mark.parametrize(
    ("stages", "in_progress"),
    [
        ({"a": ["AWSCURRENT"]}, False),
        ({"a": ["AWSCURRENT", "AWSPENDING"]}, False),  # a finished rotation's leftover label
        ({"a": ["AWSCURRENT"], "b": ["AWSPENDING"]}, True),
        ({"a": ["AWSCURRENT"], "b": ["AWSPREVIOUS"], "c": []}, False),
    ],
)
def test_rotation_in_progress_is_pending_off_current(
    stages: dict[str, list[str]], in_progress: bool
) -> None:
    assert _rotation_in_progress(stages) is in_progress
