"""The authorizer's AWS clients come from the AWS boundary (`shared.aws`) with its own short
timeouts, and the secret store turns every botocore error into "absent" or a dependency error.
No sockets: clients are built, never called; failures are raised by fakes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

from authorizer import guard, secret_store
from authorizer.errors import DependencyError
from authorizer.secret_store import SecretStore


@pytest.mark.parametrize(
    ("build", "service", "timeouts"),
    [
        (secret_store.default_client, "secretsmanager", (2, 2, 2)),
        (guard.default_dynamodb_client, "dynamodb", (1, 1, 2)),
    ],
)
def test_clients_have_short_timeouts_and_standard_retries(
    build: Any, service: str, timeouts: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without environment credentials the guard builds a boto3 client (with them, the light
    # client: tests/integration/authorizer/test_light_dynamodb.py).
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    client = build()
    config = client.meta.config
    assert client.meta.service_model.service_name == service
    connect, read, retries = timeouts
    assert (config.connect_timeout, config.read_timeout) == (connect, read)
    # botocore's `max_attempts` counts retries: the first call plus that many at most.
    assert config.retries == {"mode": "standard", "total_max_attempts": retries + 1}


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def get_secret_value(self, **_: Any) -> Any:
        self.calls += 1
        raise self.error


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetSecretValue")


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "InvalidRequestException"])
def test_a_missing_secret_or_label_is_absent_and_cached(code: str) -> None:
    fake = Failing(client_error(code))
    store = SecretStore(60, client_factory=lambda: fake)
    assert store.get("name", "AWSPREVIOUS") is None
    assert store.get("name", "AWSPREVIOUS") is None
    assert fake.calls == 1


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),
        client_error("AccessDeniedException"),
        client_error("DecryptionFailure"),
        EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com"),
    ],
    ids=["throttled", "denied", "kms", "unreachable"],
)
def test_any_other_failure_is_a_dependency_error(error: Exception) -> None:
    store = SecretStore(60, client_factory=lambda: Failing(error))
    with pytest.raises(DependencyError, match=r"^secrets_unavailable$"):
        store.get("name", "AWSCURRENT")
    assert len(store) == 0  # nothing cached: the next call tries again


def test_a_client_that_cannot_be_built_is_a_dependency_error() -> None:
    def no_region() -> Any:
        raise NoRegionError

    with pytest.raises(DependencyError, match=r"^secrets_unavailable$"):
        SecretStore(60, client_factory=no_region).get("name", "AWSCURRENT")


def test_a_binary_secret_is_a_dependency_error() -> None:
    class Binary:
        def get_secret_value(self, **_: Any) -> Any:
            return {"SecretBinary": b"x", "VersionId": "v1"}

    with pytest.raises(DependencyError, match=r"^secret_not_string$"):
        SecretStore(60, client_factory=Binary).get("name", "AWSCURRENT")
