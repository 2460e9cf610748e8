"""Figure 8: the token endpoint (`POST /oauth/token`), warm and cold, per issued token.

Warm: the real `functions.issue_token.app.lambda_handler` in-process, as deployed (security
table on: one lockout read per request, one conditional put per assertion), with in-memory
Secrets Manager and DynamoDB stand-ins; the audit line and the EMF blobs go to the counting
sink. Timed per call, for client_secret_basic and private_key_jwt (ES256, a fresh assertion
per call). Cold: fresh interpreters import the function and make one first call against moto's
server (real boto3 clients), as `cold.py` does for the authorizer.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.servers import Loopback

ROOT = Path(__file__).resolve().parent.parent
CLIENT_PREFIX = "workflow-api/clients/"
CLIENT_ID = "bench-client"
SIGNER_ID = "bench-signer"
TOKEN_URL = "https://api.bench.example/v1/oauth/token"
ENV = {
    "CLIENT_SECRET_PREFIX": CLIENT_PREFIX,
    "SECURITY_TABLE_NAME": fixtures.SECURITY_TABLE,
    "PUBLIC_BASE_URL": TOKEN_URL.removesuffix("/oauth/token"),
}

_CHILD = """
import time
T0 = time.perf_counter()
import functions.issue_token.app as m
T1 = time.perf_counter()
import json, os
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
event = json.loads(os.environ["BENCH_EVENT"])
start = time.perf_counter()
result = m.lambda_handler(event, Context())
out = {"import_s": T1 - T0, "first_call_s": time.perf_counter() - start,
       "status": result["statusCode"]}
print("BENCH" + json.dumps(out))
"""


class Context:
    """What `inject_lambda_context` reads of a Lambda context."""

    function_name = "bench-issue-token"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-issue-token"
    aws_request_id = "bench"


class _Dynamo(fixtures.FakeDynamoDB):
    def get_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        return {}  # no failures counted for this source IP


def _client_record(secret: str, jwk: dict[str, Any] | None) -> str:
    from shared.secret_formats import ClientRecord  # noqa: PLC0415

    if jwk is None:
        return ClientRecord(CLIENT_ID, secret, None, ("workflow:read",)).to_secret_string()
    return ClientRecord(SIGNER_ID, None, {"keys": [jwk]}, ("workflow:read",)).to_secret_string()


def _event(form: dict[str, str], authorization: str | None = None) -> dict[str, Any]:
    from urllib.parse import urlencode  # noqa: PLC0415

    from tests.helpers import load_event  # noqa: PLC0415

    event = load_event("issue_token/client-secret-basic.json")
    headers = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    event["body"] = urlencode(form)
    return event


def _basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()


def _signer() -> tuple[Any, dict[str, Any]]:
    import jwt  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return private, {**jwk, "kid": "bench-ec", "alg": "ES256"}


def _assertion(private: Any) -> str:
    import jwt  # noqa: PLC0415

    now = int(time.time())
    claims = {"iss": SIGNER_ID, "sub": SIGNER_ID, "aud": TOKEN_URL, "iat": now,
              "exp": now + 120, "jti": str(uuid.uuid4())}  # fmt: skip
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": "bench-ec"})


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
    }


def warm(world: Any, calls: int) -> dict[str, Any]:
    """Time per issued token, warm, for each client authentication method."""
    from shared import clients  # noqa: PLC0415
    from shared.clients import service  # noqa: PLC0415

    fixtures.apply_env(ENV)
    secrets = fixtures.FakeSecretsManager()
    secrets.put(fixtures.JWT_SECRET_ID, fixtures.signing_secret_string(world.keys))
    secret = "b" * 43
    private, jwk = _signer()
    secrets.put(CLIENT_PREFIX + CLIENT_ID, _client_record(secret, None))
    secrets.put(CLIENT_PREFIX + SIGNER_ID, _client_record(secret, jwk))
    dynamo = _Dynamo()
    original = service.new_secrets_client, service.new_dynamodb_client
    service.new_secrets_client = lambda: secrets
    service.new_dynamodb_client = lambda: dynamo
    clients.default_service.cache_clear()
    from bench.contenders import redirect_logs  # noqa: PLC0415
    from functions.issue_token import app  # noqa: PLC0415

    redirect_logs(world.sink)
    grant = {"grant_type": "client_credentials"}
    basic_event = _event(grant, _basic(secret))
    assertions = [_assertion(private) for _ in range(calls + 1)]
    # EMF blobs are printed by Powertools: to the sink too, as in the authorizer's figures.
    with contextlib.redirect_stdout(world.sink):
        try:
            results = _race(app, basic_event, assertions, grant, calls)
        finally:
            service.new_secrets_client, service.new_dynamodb_client = original
            clients.default_service.cache_clear()
    results["dynamodb_calls"] = dynamo.calls
    return results


def _race(
    app: Any, basic_event: dict[str, Any], assertions: list[str], grant: dict[str, str], calls: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for method in ("client_secret_basic", "private_key_jwt"):
        samples: list[float] = []
        for index in range(calls + 1):
            if method == "client_secret_basic":
                event = basic_event
            else:
                event = _event({**grant, "client_assertion_type":
                                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                                "client_assertion": assertions[index]})  # fmt: skip
            start = time.perf_counter()
            answer = app.lambda_handler(event, Context())
            elapsed = time.perf_counter() - start
            if answer["statusCode"] != 200:
                raise RuntimeError(f"token endpoint answered {answer['statusCode']}")
            if index:  # the first call fills the caches
                samples.append(elapsed)
        results[method] = _summary(samples)
    return results


def cold(loop: Loopback, processes: int) -> dict[str, Any]:
    """Import and first issued token in fresh interpreters, against moto's server."""
    import boto3  # noqa: PLC0415

    client = boto3.client(
        "secretsmanager", endpoint_url=loop.moto_url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    secret = "c" * 43
    name = CLIENT_PREFIX + CLIENT_ID
    try:
        client.create_secret(Name=name, SecretString=_client_record(secret, None))
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=_client_record(secret, None))
    env = {**os.environ, **fixtures.BASE_ENV, **ENV, "AWS_ENDPOINT_URL": loop.moto_url,
           "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
           "BENCH_EVENT": json.dumps(_event({"grant_type": "client_credentials"},
                                            _basic(secret)))}  # fmt: skip
    env.pop("AWS_PROFILE", None)
    imports: list[float] = []
    firsts: list[float] = []
    for _ in range(processes + 1):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH"))
        data = json.loads(line[len("BENCH") :])
        if data["status"] != 200:
            raise RuntimeError(f"cold token request answered {data['status']}")
        imports.append(data["import_s"] * 1000)
        firsts.append(data["first_call_s"] * 1000)
    imports, firsts = imports[1:], firsts[1:]  # the first round warms the OS caches
    return {
        "processes": processes,
        "import_ms": statistics.median(imports),
        "first_token_ms": statistics.median(firsts),
        "import_plus_first_token_ms": statistics.median(
            [a + b for a, b in zip(imports, firsts, strict=True)]
        ),
    }
