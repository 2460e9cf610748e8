"""Fixtures for the authorizer's integration tests: Secrets Manager in moto (in-process), a real
JWKS + discovery server on loopback, generated keys and freshly signed tokens."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from moto import mock_aws

from authorizer.authorize import Authorizer
from authorizer.secret_store import SecretStore
from shared import ApiKeyRecord, AuthorizerSettings, api_key_secret_name

SIGNING_SECRET_ID = "workflow-api/jwt-signing-key"
JWT_ISSUER = "https://services.internal.example"
JWT_AUDIENCE = "workflow-api"
OAUTH_AUDIENCE = "https://api.workflow.example"
KEY_PREFIX = "workflow-api/api-keys/"
SECURITY_TABLE = "workflow-api-security"


# --- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthKey:
    alg: str
    kid: str
    private: Any
    jwk: dict[str, Any]


def _jwk(public: Any, kid: str, alg: str) -> dict[str, Any]:
    if isinstance(public, rsa.RSAPublicKey):
        data: dict[str, Any] = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="session")
def oauth_keys() -> dict[str, OAuthKey]:
    """One signing key per accepted OAuth algorithm (RSA keys shared by RS*/PS* would hide a
    key/alg mismatch, so each algorithm gets its own kid)."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    privates = {
        **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), rsa_key),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "ES384": ec.generate_private_key(ec.SECP384R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }
    return {
        alg: OAuthKey(
            alg, f"kid-{alg.lower()}", key, _jwk(key.public_key(), f"kid-{alg.lower()}", alg)
        )
        for alg, key in privates.items()
    }


# --- a JWKS + discovery server on loopback ---------------------------------------------------


@dataclass
class JwksServer:
    keys: list[dict[str, Any]]
    hits: Counter[str] = field(default_factory=Counter)
    down: bool = False
    base: str = ""
    body_override: bytes | None = None
    rfc8414_only: bool = False
    delay: float = 0.0


@pytest.fixture(scope="session")
def _jwks_server_process(oauth_keys: dict[str, OAuthKey]) -> Iterator[JwksServer]:
    state = JwksServer(keys=[])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # The authorizer may give up waiting first (timeout tests).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._serve()

        def _serve(self) -> None:
            state.hits[self.path] += 1
            if state.down:
                self.send_error(503)
                return
            if state.delay:
                time.sleep(state.delay)
            discovery = (
                "/.well-known/oauth-authorization-server"
                if state.rfc8414_only
                else "/.well-known/openid-configuration"
            )
            if self.path == discovery:
                body = json.dumps({"issuer": state.base, "jwks_uri": state.base + "/jwks"}).encode()
            elif self.path == "/jwks":
                body = state.body_override or json.dumps({"keys": state.keys}).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def jwks_server(_jwks_server_process: JwksServer, oauth_keys: dict[str, OAuthKey]) -> JwksServer:
    """The loopback JWKS server, reset to serve every test key, up, with zeroed hit counts."""
    state = _jwks_server_process
    state.keys = [key.jwk for key in oauth_keys.values()]
    state.hits.clear()
    state.down = False
    state.body_override = None
    state.rfc8414_only = False
    state.delay = 0.0
    return state


# --- Secrets Manager in moto -----------------------------------------------------------------


@dataclass
class Secrets:
    client: Any
    signing_keys: dict[str, str] = field(default_factory=dict)

    def put_signing_key(self, kid: str, key: str | None = None) -> str:
        """Store a new signing secret version (becomes AWSCURRENT, the old one AWSPREVIOUS)."""
        key = key or secrets.token_urlsafe(48)
        value = json.dumps({"kid": kid, "key": key})
        try:
            self.client.put_secret_value(SecretId=SIGNING_SECRET_ID, SecretString=value)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_secret(Name=SIGNING_SECRET_ID, SecretString=value)
        self.signing_keys[kid] = key
        return key

    def put_api_key(self, record: ApiKeyRecord) -> None:
        name = api_key_secret_name(KEY_PREFIX, record.key_id)
        try:
            self.client.put_secret_value(SecretId=name, SecretString=record.to_secret_string())
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_secret(Name=name, SecretString=record.to_secret_string())


@pytest.fixture
def aws() -> Iterator[Secrets]:
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        store = Secrets(boto3.client("secretsmanager", region_name="us-east-1"))
        store.put_signing_key("k1")
        yield store


@pytest.fixture
def settings(jwks_server: JwksServer) -> AuthorizerSettings:
    return AuthorizerSettings(
        jwt_secret_id=SIGNING_SECRET_ID,
        jwt_issuer=JWT_ISSUER,
        jwt_audience=JWT_AUDIENCE,
        oauth_issuer=jwks_server.base,
        oauth_audience=OAUTH_AUDIENCE,
        api_key_secret_prefix=KEY_PREFIX,
    )


@pytest.fixture
def make_authorizer(aws: Secrets) -> Callable[..., Authorizer]:
    def make(settings: AuthorizerSettings, **changes: Any) -> Authorizer:
        settings = replace(settings, **changes)
        store = SecretStore(settings.secret_cache_seconds, client_factory=lambda: aws.client)
        return Authorizer(settings, store=store)

    return make


@pytest.fixture
def authz(make_authorizer: Callable[..., Authorizer], settings: AuthorizerSettings) -> Authorizer:
    return make_authorizer(settings)


# --- tokens ----------------------------------------------------------------------------------


@pytest.fixture
def service_token(aws: Secrets) -> Callable[..., str]:
    def mint(
        *, kid: str | None = "k1", key: str | None = None, headers: dict[str, Any] | None = None,
        lifetime: int = 300, **claims: Any,
    ) -> str:  # fmt: skip
        now = int(time.time())
        payload = {
            "sub": "svc-payments", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE,
            "iat": now, "exp": now + lifetime, "scope": "workflow:trigger", **claims,
        }  # fmt: skip
        payload = {k: v for k, v in payload.items() if v is not None}
        signing_key = key if key is not None else aws.signing_keys[kid or "k1"]
        extra = dict(headers or {})
        if kid is not None:
            extra["kid"] = kid
        return jwt.encode(payload, signing_key, algorithm="HS256", headers=extra)

    return mint


@pytest.fixture
def oauth_token(oauth_keys: dict[str, OAuthKey], jwks_server: JwksServer) -> Callable[..., str]:
    def mint(
        alg: str = "RS256", *, kid: str | None = None, headers: dict[str, Any] | None = None,
        lifetime: int = 300, key: Any = None, **claims: Any,
    ) -> str:  # fmt: skip
        chosen = oauth_keys[alg]
        now = int(time.time())
        payload = {
            "sub": "user-42", "client_id": "demo-client", "iss": jwks_server.base,
            "aud": OAUTH_AUDIENCE, "iat": now, "exp": now + lifetime,
            "scope": "workflow:read", "jti": "tok-1", **claims,
        }  # fmt: skip
        payload = {k: v for k, v in payload.items() if v is not None}
        header = {"kid": kid or chosen.kid, "typ": "at+jwt", **(headers or {})}
        header = {k: v for k, v in header.items() if v is not None}
        return jwt.encode(payload, key or chosen.private, algorithm=alg, headers=header)

    return mint


@pytest.fixture
def dynamo(aws: Secrets) -> Any:
    """The security table, as template.yaml declares it, in moto; every call counted."""
    from tests.helpers import create_security_table  # noqa: PLC0415
    from tests.integration.authorizer.support import CountingDynamo  # noqa: PLC0415

    client = boto3.client("dynamodb", region_name="us-east-1")
    create_security_table(client, SECURITY_TABLE)
    return CountingDynamo(client)
