"""Test material shared by every figure: keys, tokens, secrets, events, fake dependencies.

Nothing here talks to the network. The fakes stand in for Secrets Manager and the JWKS
endpoint on the warm path (caches prefilled through the authorizer's own injection points),
so that what is timed is the authorizer, not a loopback socket.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def template_number(pattern: str, default: int) -> int:
    """A number the deployed configuration sets, read from template.yaml (regex: the template's
    CloudFormation tags need no YAML loader for these two values); `default` if absent."""
    try:
        found = re.search(pattern, TEMPLATE.read_text())
    except OSError:
        return default
    return int(found.group(1)) if found else default


#: API Gateway's authorizer cache TTL: the template's `ReauthorizeEvery` default (AWS: 300).
REAUTHORIZE_EVERY = template_number(
    r"ReauthorizeEvery:\s*\n\s*Type: Number\s*\n\s*Default: (\d+)", 300
)
#: Whether template.yaml turns the security table on (then "ours+guard" is what deploys).
DEPLOYED_WITH_GUARD = TEMPLATE.exists() and "SECURITY_TABLE_NAME:" in TEMPLATE.read_text()
#: The authorizer's secret cache age as deployed (`POWERTOOLS_PARAMETERS_MAX_AGE`; Powertools: 5).
SECRET_MAX_AGE = template_number(r'POWERTOOLS_PARAMETERS_MAX_AGE: "?(\d+)"?', 5)
#: The security snapshot's periods as deployed (`SECURITY_REFRESH_SECONDS`, `..._MAX_STALE_...`).
DEPLOYED_SECURITY_ENV = {
    name: str(template_number(name + r': "?(\d+)"?', default))
    for name, default in (("SECURITY_REFRESH_SECONDS", 5), ("SECURITY_MAX_STALE_SECONDS", 60))
}

# The process environment of every figure: the authorizer reads it at import (cold start).
ISSUER = "https://issuer.bench.example"
AUDIENCE = "https://api.bench.example"
JWKS_URI = ISSUER + "/jwks"
SERVICE_ISSUER = "https://services.bench.example"
SERVICE_AUDIENCE = "workflow-api"
JWT_SECRET_ID = "workflow-api/jwt-signing"
API_KEY_PREFIX = "workflow-api/api-keys/"
KID_HS = "hs-bench-1"
#: The security table; set only for the "ours + guard" contender.
SECURITY_TABLE = "bench-security"

BASE_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "workflow-api-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "WorkflowApiBench",
    "POWERTOOLS_PARAMETERS_MAX_AGE": str(SECRET_MAX_AGE),
    "JWT_SECRET_ID": JWT_SECRET_ID,
    "JWT_ISSUER": SERVICE_ISSUER,
    "JWT_AUDIENCE": SERVICE_AUDIENCE,
    "OAUTH_ISSUER": ISSUER,
    "OAUTH_AUDIENCE": AUDIENCE,
    "OAUTH_JWKS_URI": JWKS_URI,
    "API_KEY_SECRET_PREFIX": API_KEY_PREFIX,
}

#: The four algorithm families the issue names, plus API keys.
ALGORITHMS: tuple[str, ...] = ("HS256", "RS256", "ES256", "EdDSA")
SCHEMES: tuple[str, ...] = (*ALGORITHMS, "api_key")
KID_FOR = {"RS256": "rsa-bench-1", "ES256": "ec-bench-1", "EdDSA": "ed-bench-1"}
ADMIN_SCOPE = "workflow:admin"


def apply_env(extra: dict[str, str] | None = None) -> None:
    """Set the benchmark environment before `authorizer.app` is imported."""
    os.environ.update(BASE_ENV)
    os.environ.update(extra or {})
    os.environ.pop("AWS_PROFILE", None)
    if not (extra and "AWS_ENDPOINT_URL" in extra):
        os.environ.pop("AWS_ENDPOINT_URL", None)


class Sink(io.TextIOBase):
    """The null stream that audit lines and EMF blobs go to; it counts lines, so the figures
    can prove both were produced for every invocation."""

    def __init__(self) -> None:
        self.lines = 0
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.chars += len(text)
        return len(text)


@dataclass
class Keys:
    """One key per algorithm family; the public halves are served as a JWKS."""

    hs_key: bytes
    private: dict[str, Any]
    public: dict[str, Any]
    jwks: dict[str, Any]


def make_keys() -> Keys:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: PLC0415
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm  # noqa: PLC0415

    private: dict[str, Any] = {
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }
    public = {alg: key.public_key() for alg, key in private.items()}
    to_jwk: dict[str, Any] = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}
    jwks = {
        "keys": [
            {**to_jwk[alg].to_jwk(public[alg], as_dict=True), "kid": KID_FOR[alg], "alg": alg}
            | {"use": "sig"}
            for alg in public
        ]
    }
    return Keys(secrets.token_urlsafe(48).encode(), private, public, jwks)


@dataclass
class TokenFactory:
    """Mints valid credentials; `serial` makes each one distinct (distinct jti)."""

    keys: Keys
    serial: int = 0
    lifetime: int = 3000
    scope: str = ADMIN_SCOPE
    _jwt: Any = field(default=None, repr=False)

    def token(
        self,
        alg: str,
        scope: str | None = None,
        sub: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        import jwt  # noqa: PLC0415

        self.serial += 1
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub or f"client-{self.serial % 50}",
            "iat": now,
            "exp": now + self.lifetime,
            "jti": f"bench-{self.serial}",
            "scope": self.scope if scope is None else scope,
            **(extra or {}),
        }
        if alg == "HS256":
            claims |= {"iss": SERVICE_ISSUER, "aud": SERVICE_AUDIENCE}
            return jwt.encode(claims, self.keys.hs_key, "HS256", headers={"kid": KID_HS})
        claims |= {"iss": ISSUER, "aud": AUDIENCE, "client_id": claims["sub"]}
        headers = {"kid": KID_FOR[alg], "typ": "at+jwt"}
        return jwt.encode(claims, self.keys.private[alg], alg, headers=headers)


def signing_secret_string(keys: Keys) -> str:
    return json.dumps({"kid": KID_HS, "key": keys.hs_key.decode()})


def api_key_record(
    key_id: str | None = None, scopes: tuple[str, ...] = ("workflow:read",)
) -> tuple[str, str, str]:
    """(api key, secret name, SecretString) for one fresh key."""
    from shared.secret_formats import ApiKeyRecord  # noqa: PLC0415

    record = ApiKeyRecord.issue("bench-service", scopes, key_id)
    return record.api_key, API_KEY_PREFIX + record.key_id, record.to_secret_string()


class FakeSecretsManager:
    """In-memory stand-in for a boto3 Secrets Manager client (only `get_secret_value`)."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls = 0

    def put(self, name: str, secret_string: str, stage: str = "AWSCURRENT") -> None:
        self.versions[(name, stage)] = {
            "Name": name,
            "SecretString": secret_string,
            "VersionId": secrets.token_hex(16),
            "VersionStages": [stage],
            "CreatedDate": datetime.now(UTC),
        }

    def get_secret_value(self, SecretId: str, VersionStage: str = "AWSCURRENT") -> Any:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        self.calls += 1
        found = self.versions.get((SecretId, VersionStage))
        if found is None:
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}}
            raise ClientError(error, "GetSecretValue")  # type: ignore[arg-type]
        return dict(found)


class FakeDynamoDB:
    """In-memory stand-in for the security table's client, in its steady state for a known
    caller: no source locked, nothing revoked, every (key, source IP) seen before."""

    def __init__(self) -> None:
        self.calls = 0

    def query(self, **kwargs: Any) -> Any:
        self.calls += 1
        return {"Items": []}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        self.calls += 1
        table = next(iter(RequestItems))
        return {"Responses": {table: []}, "UnprocessedKeys": {}}

    def get_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        return {}

    def update_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        return {"Attributes": {"count": {"N": "1"}}}

    def put_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        if kwargs["Item"]["pk"]["S"].startswith("seen#"):  # a known caller: already seen
            raise ConditionFailedError
        return {}


class ConditionFailedError(Exception):
    """What botocore raises for a false condition, as far as the guard looks at it."""

    response: ClassVar[dict[str, Any]] = {"Error": {"Code": "ConditionalCheckFailedException"}}


class FakeJwks:
    """Stand-in for the JWKS endpoint: returns the document and counts fetches."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.calls = 0

    def __call__(self, url: str) -> Any:
        self.calls += 1
        return json.loads(json.dumps(self.document))


def event_for(scheme: str, credential: str, method: str = "GET", path: str = "") -> dict[str, Any]:
    from tests.helpers import authorizer_event  # noqa: PLC0415

    if scheme == "api_key":
        return authorizer_event(method, path or "/api/internal", {"X-Api-Key": credential})
    return authorizer_event(
        method, path or "/api/workflows/wf-1/runs", {"Authorization": f"Bearer {credential}"}
    )
