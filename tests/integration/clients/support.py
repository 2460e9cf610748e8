"""The token service in-process against moto: Secrets Manager (signing secret, clients), the
security table, and the real authorizer next to it, to prove its tokens are accepted."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.clients import ASSERTION_TYPE
from shared.secret_formats import ClientRecord, client_secret_name
from shared.settings import AuthorizerSettings, SecuritySettings
from tests.helpers import authorizer_event, covers, create_security_table, load_event
from tests.integration.rotation.support import (
    SIGNING_SECRET_NAME,
    Aws,
    Clocks,
    FakeLambdaContext,
    real_authorizer,
)

ISSUER = "urn:workflow-api:test-token-service"
AUDIENCE = "urn:workflow-api:test"
CLIENT_PREFIX = "workflow-api/clients/"
TABLE = "workflow-api-security"
BASE_URL = "https://api.example.test/v1"
TOKEN_URL = BASE_URL + "/oauth/token"
SOURCE_IP = "198.51.100.20"
FORM = "application/x-www-form-urlencoded"

ENVIRONMENT = {
    "JWT_SECRET_ID": SIGNING_SECRET_NAME,
    "JWT_ISSUER": ISSUER,
    "JWT_AUDIENCE": AUDIENCE,
    "CLIENT_SECRET_PREFIX": CLIENT_PREFIX,
    "SECURITY_TABLE_NAME": TABLE,
    "PUBLIC_BASE_URL": BASE_URL,
    "LOCKOUT_THRESHOLD": "10",
    "LOCKOUT_WINDOW_SECONDS": "300",
    "CLOCK_SKEW_SECONDS": "60",
    # Every request reads Secrets Manager again: rotations are seen at once.
    "POWERTOOLS_PARAMETERS_MAX_AGE": "0",
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Env:
    aws: Aws
    dynamodb: Any
    signing_secret_arn: str


def create_table(dynamodb: Any) -> None:
    create_security_table(dynamodb, TABLE)


def register(
    aws: Aws,
    client_id: str,
    scopes: tuple[str, ...] = ("workflow:read", "workflow:trigger"),
    *,
    secret: bool = True,
    jwks: dict[str, Any] | None = None,
    lifetime: int | None = None,
    revoked: bool = False,
) -> ClientRecord:
    """A client's secret as the admin API writes it."""
    record = ClientRecord(client_id, None, jwks, scopes, lifetime, revoked)
    if secret:
        record = record.with_new_secret()
    aws.sm.create_secret(
        Name=client_secret_name(CLIENT_PREFIX, client_id), SecretString=record.to_secret_string()
    )
    return record


def basic(client_id: str, secret: str) -> str:
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_event(
    body: str | Mapping[str, str] | None,
    *,
    headers: Mapping[str, str] | None = None,
    multi: Mapping[str, list[str]] | None = None,
    source_ip: str = SOURCE_IP,
    content_type: str | None = FORM,
    base64_body: bool = False,
) -> dict[str, Any]:
    event = copy.deepcopy(load_event("issue_token/client-secret-basic.json"))
    sent = {k: v for k, v in event["headers"].items() if k not in ("Authorization",)}
    sent.pop("Content-Type", None)
    if content_type is not None:
        sent["Content-Type"] = content_type
    sent.update(headers or {})
    event["headers"] = sent
    event["multiValueHeaders"] = {k: [v] for k, v in sent.items()}
    event["multiValueHeaders"].update(multi or {})
    text = urlencode(dict(body)) if isinstance(body, Mapping) else body
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    event["body"] = text
    event["isBase64Encoded"] = base64_body
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return event


def invoke(function: str, event: dict[str, Any]) -> Answer:
    module = __import__(f"functions.{function}.app", fromlist=["lambda_handler"])
    response = module.lambda_handler(event, FakeLambdaContext(function_name=function))
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    body = json.loads(response["body"]) if response.get("body") else None
    return Answer(response["statusCode"], headers, body)


def request_token(
    form: str | Mapping[str, str] | None = None,
    *,
    auth: tuple[str, str] | None = None,
    **options: Any,
) -> Answer:
    headers = dict(options.pop("headers", {}) or {})
    if auth is not None:
        headers["Authorization"] = basic(*auth)
    if form is None:
        form = {"grant_type": "client_credentials"}
    return invoke("issue_token", token_event(form, headers=headers, **options))


def assert_refused(answer: Answer, status: int, error: str) -> None:
    assert answer.status == status, answer
    assert answer.body["error"] == error, answer
    assert set(answer.body) == {"error", "error_description"}, answer
    assert answer.headers["Cache-Control"] == "no-store", answer
    assert "access_token" not in json.dumps(answer.body)


def authorizer_settings() -> AuthorizerSettings:
    return AuthorizerSettings(
        jwt_secret_id=SIGNING_SECRET_NAME,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        security=SecuritySettings(),
    )


def authorizer_answer(aws: Aws, token: str, method: str, path: str) -> str:
    """'allow', 'deny' or 'unauthorized' from the real, unchanged authorizer."""
    from authorizer import app  # noqa: PLC0415

    previous = app.AUTHORIZER
    app.AUTHORIZER = real_authorizer(aws, authorizer_settings(), Clocks())
    event = authorizer_event(method, path, headers={"Authorization": f"Bearer {token}"})
    try:
        answer = app.lambda_handler(event, FakeLambdaContext())
    except Exception as error:
        if str(error) == "Unauthorized":
            return "unauthorized"
        raise
    finally:
        app.AUTHORIZER = previous
    # API Gateway's evaluation: `*` in a policy's resource spans any characters.
    return "allow" if covers(answer, event["methodArn"]) else "deny"


# -- private_key_jwt ---------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKeyPair:
    private: Any
    jwk: dict[str, Any]
    alg: str


def ec_key(kid: str = "key-1") -> SigningKeyPair:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return SigningKeyPair(private, {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}, "ES256")


def rsa_key(kid: str = "rsa-1") -> SigningKeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return SigningKeyPair(private, {**jwk, "kid": kid}, "PS256")


def assertion(
    pair: SigningKeyPair,
    client_id: str,
    *,
    audience: str | list[str] = TOKEN_URL,
    lifetime: int = 120,
    jti: str | None = None,
    header: Mapping[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or str(uuid.uuid4()),
        **claims,
    }
    headers = {"kid": pair.jwk["kid"], **(header or {})}
    return jwt.encode(body, pair.private, algorithm=pair.alg, headers=headers)


def assertion_form(signed: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        **extra,
    }
