"""The authorizer reading secrets through AWS's Parameters and Secrets Lambda Extension.

A loopback stand-in serves the extension's HTTP API (`GET /secretsmanager/get`, the session
token header, the `GetSecretValue` JSON with `CreatedDate` as RFC 3339 text, errors as the
extension's text) in front of moto's Secrets Manager, with no cache of its own, as the
template configures the extension (`SECRETS_MANAGER_TTL=0`). The authorizer is built with its
default client factory, so it picks the extension from the environment as it does in Lambda.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from authorizer import secret_store
from authorizer.authorize import Authorizer
from authorizer.errors import DependencyError
from authorizer.secret_store import SecretStore
from authorizer.secrets_extension import ExtensionSecretsClient
from shared import ApiKeyRecord, AuthorizerSettings, new_api_key
from tests.integration.authorizer.conftest import Secrets
from tests.integration.authorizer.support import (
    api_key_event,
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)

SESSION_TOKEN = "testing"
Mint = Callable[..., str]


@dataclass
class StandIn:
    """What the stand-in does next: serve from moto, or fail in one of the ways an extension
    can (an HTTP status with a body), and how far back to date AWSCURRENT's creation."""

    client: Any = None
    port: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    failure: tuple[int, bytes] | None = None
    current_age: timedelta = timedelta(0)


@pytest.fixture
def extension(aws: Secrets, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    state = StandIn(client=aws.client)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._serve()

        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if self.headers.get("X-Aws-Parameters-Secrets-Token") != SESSION_TOKEN:
                self._answer(401, b"not authorized")
                return
            if url.path != "/secretsmanager/get":
                self._answer(404, b"not found")
                return
            stage = query.get("versionStage", "AWSCURRENT")
            state.requests.append((query.get("secretId", ""), stage))
            if state.failure is not None:
                self._answer(*state.failure)
                return
            try:
                value = dict(
                    state.client.get_secret_value(SecretId=query["secretId"], VersionStage=stage)
                )
            except ClientError as error:
                code = error.response["Error"]["Code"]
                text = (
                    "operation error Secrets Manager: GetSecretValue, https response error "
                    f"StatusCode: 400, RequestID: r-1, {code}: not found"
                )
                self._answer(400, text.encode())
                return
            value.pop("ResponseMetadata", None)
            created = value["CreatedDate"]
            if stage == "AWSCURRENT":
                created -= state.current_age
            value["CreatedDate"] = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self._answer(200, json.dumps(value).encode())

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(state.port))
    monkeypatch.setenv("SECRETS_MANAGER_TTL", "0")
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def authz(extension: StandIn, settings: AuthorizerSettings) -> Authorizer:
    """The authorizer with its default secret client factory (nothing injected)."""
    return Authorizer(settings, store=SecretStore(settings.secret_cache_seconds))


def internal(key: str) -> dict[str, Any]:
    return api_key_event("GET", "/api/internal", key)


def automate(token: str) -> dict[str, Any]:
    return bearer("GET", "/api/automate", token)


def test_hs256_and_api_keys_are_verified_through_the_extension(
    authz: Authorizer, extension: StandIn, aws: Secrets, service_token: Mint
) -> None:
    record = ApiKeyRecord.issue("billing", ["workflow:read"])
    aws.put_api_key(record)
    assert authz.handle(automate(service_token()))["principalId"] == "svc-payments"
    assert authz.handle(internal(record.api_key))["principalId"] == "billing"
    assert isinstance(authz.store._client, ExtensionSecretsClient)
    stages = {stage for _, stage in extension.requests}
    assert "AWSCURRENT" in stages
    assert len(extension.requests) >= 2


def test_a_rotated_signing_key_is_picked_up_at_once_and_the_previous_one_honoured(
    authz: Authorizer, extension: StandIn, aws: Secrets, service_token: Mint
) -> None:
    old = service_token(kid="k1")
    assert authz.handle(automate(old))["principalId"] == "svc-payments"
    aws.put_signing_key("k2")
    before = len(extension.requests)
    # An unknown kid forces a re-read; the extension keeps no cache, so it sees the rotation.
    assert authz.handle(automate(service_token(kid="k2")))["principalId"] == "svc-payments"
    assert len(extension.requests) > before
    assert authz.handle(automate(old))["principalId"] == "svc-payments"


def test_the_previous_signing_key_ends_one_token_lifetime_after_the_rotation(
    authz: Authorizer, extension: StandIn, aws: Secrets, service_token: Mint,
    settings: AuthorizerSettings,
) -> None:  # fmt: skip
    old = service_token(kid="k1")
    aws.put_signing_key("k2")
    # AWSCURRENT's CreatedDate, as the extension reports it, is older than the window.
    window = settings.jwt_max_lifetime_seconds + settings.clock_skew_seconds
    extension.current_age = timedelta(seconds=window + 5)
    assert authz.handle(automate(service_token(kid="k2")))["principalId"] == "svc-payments"
    assert_unauthorized(authz, automate(old))


def test_a_rotated_api_key_keeps_its_grace_window_counted_from_created_date(
    authz: Authorizer, extension: StandIn, aws: Secrets, settings: AuthorizerSettings
) -> None:
    old = ApiKeyRecord.issue("billing", ["workflow:read"])
    aws.put_api_key(old)
    assert authz.handle(internal(old.api_key))["principalId"] == "billing"
    new = ApiKeyRecord(new_api_key(old.key_id), old.principal, old.scopes)
    aws.put_api_key(new)
    # The new value matches neither cached version: one forced re-read finds it.
    assert authz.handle(internal(new.api_key))["principalId"] == "billing"
    assert authz.handle(internal(old.api_key))["principalId"] == "billing"
    extension.current_age = timedelta(seconds=settings.api_key_grace_seconds + 5)
    authz.store.clear()
    assert_unauthorized(authz, internal(old.api_key))
    assert authz.handle(internal(new.api_key))["principalId"] == "billing"


def test_a_revoked_api_key_is_refused_once_the_store_re_reads(
    authz: Authorizer, aws: Secrets
) -> None:
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    assert authz.handle(internal(record.api_key))["principalId"] == "billing"
    aws.put_api_key(ApiKeyRecord(record.api_key, record.principal, record.scopes, revoked=True))
    authz.store.clear()  # our cache's age is the only one: the extension keeps none
    assert_unauthorized(authz, internal(record.api_key))


def test_an_unknown_api_key_is_unauthorized(authz: Authorizer) -> None:
    assert_unauthorized(authz, internal(new_api_key("a" * 16)))


@pytest.mark.parametrize(
    "failure",
    [
        (500, b"operation error Secrets Manager: GetSecretValue, InternalServiceError: boom"),
        (400, b"AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue"),
        (401, b"not authorized"),
        (503, b"<html>upstream down</html>"),
        (200, b"not json at all"),
        (200, b'["a list"]'),
    ],
    ids=["5xx", "access-denied", "bad-token", "html", "non-json", "not-an-object"],
)
def test_extension_errors_fail_closed(
    authz: Authorizer, extension: StandIn, aws: Secrets, service_token: Mint,
    failure: tuple[int, bytes],
) -> None:  # fmt: skip
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    extension.failure = failure
    assert_dependency_error(authz, automate(service_token()))
    assert_dependency_error(authz, internal(record.api_key))


def test_an_extension_that_does_not_answer_fails_closed(
    authz: Authorizer, extension: StandIn, service_token: Mint, monkeypatch: pytest.MonkeyPatch
) -> None:
    with contextlib.closing(__import__("socket").socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free))
    started = time.monotonic()
    assert_dependency_error(authz, automate(service_token()))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "2773"},  # its cache on (300 s by default)
        {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "2773", "SECRETS_MANAGER_TTL": "300"},
        {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "not-a-port", "SECRETS_MANAGER_TTL": "0"},
    ],
    ids=["unset", "ttl-unset", "ttl-300", "bad-port"],
)
def test_without_the_extension_or_with_its_cache_on_boto3_is_used(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "SECRETS_MANAGER_TTL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = secret_store.default_client()
    assert not isinstance(client, ExtensionSecretsClient)
    assert client.meta.service_model.service_name == "secretsmanager"


def test_an_extension_that_hangs_fails_closed_within_its_timeout(aws: Secrets) -> None:
    """An extension that accepts the connection and never answers: the read times out (the
    deployed client waits 4 s; here 0.3 s), and the store reports a dependency failure."""
    listener = __import__("socket").create_server(("127.0.0.1", 0))
    try:
        port = listener.getsockname()[1]
        client = ExtensionSecretsClient(port, SESSION_TOKEN, timeout=0.3)
        store = SecretStore(5, client_factory=lambda: client)
        started = time.monotonic()
        with pytest.raises(DependencyError):
            store.get("any", "AWSCURRENT")
        assert time.monotonic() - started < 2
    finally:
        listener.close()
