"""`wfctl api-keys` validates through the admin API's own parsers, before any AWS call."""

from __future__ import annotations

from typing import Any

import pytest

from shared.api_errors import ApiError
from shared.api_keys import InvalidPrincipalError, InvalidScopesError, MalformedKeyIdError
from wfctl import api_keys


class NoAws:
    """A client that fails the test if anything calls it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"AWS was called: {name}")


@pytest.mark.parametrize(
    "principal",
    ["", "a b", "-starts-with-a-dash", "x" * 129, "svc\nnext", "svc\u00e9", "x" * 256],
)
def test_create_refuses_what_the_api_refuses(principal: str) -> None:
    """Once 1-256 characters of anything; now the API's 1-128 safe characters."""
    with pytest.raises(InvalidPrincipalError):
        api_keys.create(NoAws(), "p/", principal, ["workflow:read"])


@pytest.mark.parametrize(
    ("scopes", "error"),
    [(["workflow:write"], InvalidScopesError), (["workflow:admin:x"], InvalidScopesError)],
)
def test_create_refuses_unknown_scopes(scopes: list[str], error: type[ApiError]) -> None:
    with pytest.raises(error):
        api_keys.create(NoAws(), "p/", "billing-batch", scopes)


@pytest.mark.parametrize("key_id", ["", "ABCDEFGHIJKLMNOP", "short", "a" * 17])
def test_rotate_refuses_a_malformed_key_id(key_id: str) -> None:
    with pytest.raises(MalformedKeyIdError):
        api_keys.rotate(NoAws(), "p/", key_id)
