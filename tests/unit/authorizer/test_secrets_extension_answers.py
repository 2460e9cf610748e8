"""How the extension client reads the extension's answers: `CreatedDate` in the forms it may
take (anything else is "no date", which honours no previous version), and error codes from
JSON or from the extension's error text. Pure functions, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authorizer.secrets_extension import UNKNOWN_ERROR_CODE, _created, _error_code

WHEN = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["2026-12-01T10:00:00Z", "2026-12-01T10:00:00+00:00", "2026-12-01T11:00:00+01:00",
     "2026-12-01T10:00:00", WHEN.timestamp(), int(WHEN.timestamp())],
)  # fmt: skip
def test_created_date_forms(value: object) -> None:
    created = _created(value)
    assert created == WHEN
    assert created is not None
    assert created.tzinfo is not None


@pytest.mark.parametrize("value", [None, True, "yesterday", "", [], {"s": 1}])
def test_anything_else_is_no_date(value: object) -> None:
    assert _created(value) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException"}',
         "ResourceNotFoundException"),
        (b"operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, "
         b"RequestID: r, ResourceNotFoundException: Secrets Manager can't find the secret.",
         "ResourceNotFoundException"),
        (b"api error AccessDeniedException: not authorized", "AccessDeniedException"),
        (b"<html>502 bad gateway</html>", UNKNOWN_ERROR_CODE),
        (b"", UNKNOWN_ERROR_CODE),
    ],
)  # fmt: skip
def test_error_codes(body: bytes, code: str) -> None:
    assert _error_code(body) == code
