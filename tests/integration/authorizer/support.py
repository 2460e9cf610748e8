"""Assertions shared by the authorizer's integration tests."""

from __future__ import annotations

import time
from typing import Any

import pytest

from authorizer.authorize import Authorizer
from tests.helpers import authorizer_event


def bearer(method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
    return authorizer_event(method, path, {"Authorization": f"Bearer {token}"}, **kwargs)


def api_key_event(method: str, path: str, key: str) -> dict[str, Any]:
    return authorizer_event(method, path, {"X-Api-Key": key})


def assert_unauthorized(authz: Authorizer, event: dict[str, Any]) -> None:
    """Exactly API Gateway's 401 contract: a plain Exception whose message is 'Unauthorized'."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the exact type is asserted below
        authz.handle(event)
    assert type(caught.value) is Exception
    assert str(caught.value) == "Unauthorized"


def assert_dependency_error(authz: Authorizer, event: dict[str, Any]) -> None:
    """A 500 from API Gateway: any error other than 'Unauthorized', and never a policy."""
    with pytest.raises(RuntimeError) as caught:
        authz.handle(event)
    assert str(caught.value) == "Authorizer unavailable"


def allowed(policy: dict[str, Any]) -> list[str]:
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    return sorted(statement["Resource"])


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class CountingDynamo:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            return method(**kwargs)

        return call
