"""Pure parts of the admin endpoints: input parsing, settings, the error-to-status map."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from shared.admin_http import status_of
from shared.api_key_admin import (
    AdminSettings,
    BackendError,
    InvalidRequestError,
    IssueRequest,
    KeyNotFoundError,
    NotAdminError,
    RotationInProgressError,
    _rotation_in_progress,
    parse_issue_request,
    parse_key_id,
)
from shared.settings import ConfigurationError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-secret"


def test_a_valid_body_is_read() -> None:
    body = json.dumps(
        {"principal": "svc:billing@prod", "scopes": ["workflow:trigger:wf_1"], "rotateAfterDays": 7}
    )
    assert parse_issue_request(body, 90) == IssueRequest(
        "svc:billing@prod", ("workflow:trigger:wf_1",), 7
    )


def test_rotate_after_days_defaults() -> None:
    body = json.dumps({"principal": "svc", "scopes": ["workflow:read"]})
    assert parse_issue_request(body, 45).rotate_after_days == 45


@pytest.mark.parametrize("days", [1, 1000])
def test_rotate_after_days_bounds_are_secrets_managers(days: int) -> None:
    body = json.dumps({"principal": "svc", "scopes": [], "rotateAfterDays": days})
    assert parse_issue_request(body, 90).rotate_after_days == days


@pytest.mark.parametrize("body", [None, "", "[1]", '"text"', "{", '{"principal": "svc"} x'])
def test_unreadable_bodies_are_invalid(body: str | None) -> None:
    with pytest.raises(InvalidRequestError):
        parse_issue_request(body, 90)


def test_deeply_nested_json_is_invalid_not_a_crash() -> None:
    with pytest.raises(InvalidRequestError):
        parse_issue_request("[" * 100_000 + "]" * 100_000, 90)


@pytest.mark.parametrize("key_id", ["0123456789abcdef", "demokey000000001"])
def test_well_formed_key_ids(key_id: str) -> None:
    assert parse_key_id(key_id) == key_id


@pytest.mark.parametrize(
    "key_id", [None, "", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "../../x"]
)
def test_malformed_key_ids(key_id: str | None) -> None:
    with pytest.raises(InvalidRequestError):
        parse_key_id(key_id)


def test_settings_defaults_and_env() -> None:
    assert AdminSettings.from_env({"ROTATION_FUNCTION_ARN": ARN}) == AdminSettings(
        rotation_function_arn=ARN
    )
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
        {},
        {"ROTATION_FUNCTION_ARN": ARN, "API_KEY_ROTATE_AFTER_DAYS": "0"},
        {"ROTATION_FUNCTION_ARN": ARN, "API_KEY_ROTATE_AFTER_DAYS": "1001"},
        {"ROTATION_FUNCTION_ARN": ARN, "API_KEY_RECOVERY_WINDOW_DAYS": "6"},
        {"ROTATION_FUNCTION_ARN": ARN, "API_KEY_RECOVERY_WINDOW_DAYS": "31"},
        {"ROTATION_FUNCTION_ARN": ARN, "API_KEY_RECOVERY_WINDOW_DAYS": "a week"},
    ],
)
def test_bad_settings_fail_the_cold_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        AdminSettings.from_env(env)


def test_the_revoke_function_needs_no_rotation_function() -> None:
    assert AdminSettings.from_env({}, needs_rotation_function=False).rotation_function_arn is None


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidRequestError("x"), HTTPStatus.BAD_REQUEST),
        (NotAdminError("x"), HTTPStatus.FORBIDDEN),
        (KeyNotFoundError("x"), HTTPStatus.NOT_FOUND),
        (RotationInProgressError("x"), HTTPStatus.CONFLICT),
        (BackendError("x"), HTTPStatus.INTERNAL_SERVER_ERROR),
    ],
)
def test_each_domain_error_has_its_status(error: Exception, status: HTTPStatus) -> None:
    assert status_of(error) is status  # type: ignore[arg-type]


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
