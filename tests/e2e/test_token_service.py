"""The token service over real HTTP, driven by independent OAuth 2 client libraries: authlib
(client_secret_basic, client_secret_post, and private_key_jwt with authlib's own assertion
signer) and requests-oauthlib's backend-application flow (RFC 6749 section 4.4). Each gets a
token and calls a route with it; the authorizer is the unchanged one.

Powertools 3.37 (the pinned version) has no OAuth 2 client outside its alpha `auth_alpha`
module, so it is not one of the clients here.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.scopes import READ, TRIGGER
from shared.secret_formats import ClientRecord, client_secret_name
from tests.e2e.conftest import LocalRun, start_local_run, stop

RUNS = "/api/workflows/demo/runs"


def test_authlib_client_secret_basic(local_run: LocalRun) -> None:
    from authlib.integrations.requests_client import OAuth2Session  # noqa: PLC0415

    client_id, secret = local_run.client(READ, TRIGGER, subject="e2e-authlib")
    session = OAuth2Session(
        client_id, secret, token_endpoint_auth_method="client_secret_basic", scope=READ
    )
    token = session.fetch_token(local_run.state["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == READ
    assert session.get(local_run.base + RUNS, timeout=10).status_code == 200
    # workflow:read only: the trigger route is the policy's 403.
    refused = session.post(local_run.base + "/api/trigger", json={"workflowId": "demo"}, timeout=10)
    assert refused.status_code == 403
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_authlib_client_secret_post(local_run: LocalRun) -> None:
    from authlib.integrations.requests_client import OAuth2Session  # noqa: PLC0415

    client_id, secret = local_run.client(TRIGGER, subject="e2e-authlib-post")
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method="client_secret_post")
    token = session.fetch_token(local_run.state["token_endpoint"], grant_type="client_credentials")
    assert token["scope"] == TRIGGER
    started = session.post(local_run.base + RUNS, json={"input": {}}, timeout=10)
    assert started.status_code == 202, started.text


def test_authlib_private_key_jwt(local_run: LocalRun) -> None:
    from authlib.integrations.requests_client import OAuth2Session  # noqa: PLC0415
    from authlib.oauth2.rfc7523 import PrivateKeyJWT  # noqa: PLC0415
    from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign  # noqa: PLC0415
    from joserfc.jwk import RSAKey  # noqa: PLC0415 - the key type authlib's signer takes

    class ShortLivedPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
        """authlib's signer, asked for a 2-minute assertion: its default `exp` is an hour
        ahead, and the token service refuses any beyond 300 s (docs/token-service.md)."""

        def sign(self, auth: Any, token_endpoint: str) -> Any:
            return private_key_jwt_sign(
                auth.client_secret, client_id=auth.client_id, token_endpoint=token_endpoint,
                header=self.headers, alg=self.alg, expires_in=120,
            )  # fmt: skip

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(private.public_key())), "kid": "e2e-rsa-1"}
    pem = RSAKey.import_key(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    client_id = "e2e-authlib-signer"
    record = ClientRecord(client_id, None, {"keys": [jwk]}, (READ,))
    local_run.secrets_client().create_secret(
        Name=client_secret_name(local_run.state["client_secret_prefix"], client_id),
        SecretString=record.to_secret_string(),
    )
    endpoint = local_run.state["token_endpoint"]
    signer = ShortLivedPrivateKeyJWT(endpoint, headers={"kid": "e2e-rsa-1"}, alg="RS256")
    session = OAuth2Session(client_id, pem, token_endpoint_auth_method=signer)
    for _ in range(2):  # each request signs a new assertion (a new jti)
        token = session.fetch_token(endpoint, grant_type="client_credentials")
        assert token["scope"] == READ
    assert session.get(local_run.base + RUNS, timeout=10).status_code == 200
    # The same assertion twice is a replay.
    assertion = signer.sign(
        session.client_auth(signer) if False else _Auth(client_id, pem), endpoint
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion.decode() if isinstance(assertion, bytes) else assertion,
    }
    assert requests.post(endpoint, data=form, timeout=10).status_code == 200
    replay = requests.post(endpoint, data=form, timeout=10)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


class _Auth:
    def __init__(self, client_id: str, client_secret: Any) -> None:
        self.client_id, self.client_secret = client_id, client_secret


def test_requests_oauthlib_backend_application_flow(
    local_run: LocalRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oauthlib.oauth2 import BackendApplicationClient  # noqa: PLC0415
    from requests_oauthlib import OAuth2Session  # noqa: PLC0415

    # oauthlib refuses plain http; the local run is loopback-only http.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client_id, secret = local_run.client(READ, subject="e2e-oauthlib")
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    token = session.fetch_token(
        token_url=local_run.state["token_endpoint"], client_id=client_id, client_secret=secret
    )
    assert token["token_type"] == "Bearer"
    assert 0 < token["expires_in"] <= 900
    assert session.get(local_run.base + RUNS, timeout=10).status_code == 200
    assert session.post(local_run.base + "/api/trigger", json={}, timeout=10).status_code == 403


def test_refusals_over_http(local_run: LocalRun) -> None:
    endpoint = local_run.state["token_endpoint"]
    client_id, secret = local_run.client(READ, subject="e2e-refusals")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"auth": (client_id, "X" * 43), "data": {"grant_type": "client_credentials"}}, 401,
         "invalid_client"),
        ({"auth": (client_id, secret), "data": {"grant_type": "password"}}, 400,
         "unsupported_grant_type"),
        ({"auth": (client_id, secret), "data": {"grant_type": "client_credentials",
                                                "scope": "workflow:admin"}}, 400, "invalid_scope"),
        ({"auth": (client_id, secret), "json": {"grant_type": "client_credentials"}}, 400,
         "invalid_request"),
        ({"auth": (client_id, secret), "data": "grant_type=client_credentials&" + "a=b&" * 6000},
         400, "invalid_request"),
    ]  # fmt: skip
    for kwargs, status, error in cases:
        response = requests.post(endpoint, timeout=10, **kwargs)
        assert response.status_code == status, (kwargs.get("data"), response.text)
        assert response.json()["error"] == error
        assert response.headers["Cache-Control"] == "no-store"
    challenge = requests.post(endpoint, auth=(client_id, "X" * 43),
                              data={"grant_type": "client_credentials"}, timeout=10)  # fmt: skip
    assert challenge.headers["WWW-Authenticate"] == 'Basic realm="workflow-api"'


def test_metadata_names_the_local_token_endpoint(local_run: LocalRun) -> None:
    metadata = requests.get(
        local_run.base + "/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert metadata["token_endpoint"] == local_run.state["token_endpoint"]
    assert metadata["issuer"] == local_run.state["jwt_issuer"]
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]


def test_the_demo_clients_and_the_credentials_file(local_run: LocalRun) -> None:
    path = Path(local_run.state["credentials_file"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"baseUrl", "awsEnv", "clients", "apiKey", "oauth", "dpop"}
    assert set(data["dpop"]) == {"mode", "tokenUrl", "proofUrlBase"}
    assert data["dpop"]["mode"] == "off"
    assert data["baseUrl"] == local_run.base
    assert set(data["clients"]) == {"demo", "admin"}
    assert data["clients"]["demo"]["scopes"] == [READ, TRIGGER]
    assert data["clients"]["admin"]["scopes"] == ["workflow:admin"]
    for client in data["clients"].values():
        assert set(client) == {"clientId", "clientSecret", "scopes"}
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(data["awsEnv"])
    if data["oauth"] is not None:
        assert set(data["oauth"]) == {"issuer", "tokenUrl", "clientId", "clientSecret", "scopes"}
    admin = data["clients"]["admin"]
    token = requests.post(
        local_run.state["token_endpoint"],
        auth=(admin["clientId"], admin["clientSecret"]),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    listed = local_run.call("GET", "/api/admin/clients", token)
    assert listed.status_code == 200
    assert {"demo", "admin"} <= {c["clientId"] for c in listed.json()["clients"]}
    assert admin["clientSecret"] not in listed.text


def test_the_credentials_file_goes_when_the_run_stops(tmp_path: Path) -> None:
    run = start_local_run(tmp_path, ["--no-oidc"])
    path = Path(run.state["credentials_file"])
    try:
        assert path.is_file()
    finally:
        stop(run.process)
    deadline = time.monotonic() + 5
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not path.exists()
    assert not os.path.exists(str(path) + ".tmp")
