"""Secrets Manager in moto, the rotation function's steps, and the real authorizer, for the
rotation and admin tests.

moto's `rotate_secret` cannot run our rotation function (it would need Docker), so these
helpers split a rotation the way Secrets Manager does: `start_rotation` is the service's part
(an empty AWSPENDING version named by a fresh token), `run_step` is the function's part.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
from botocore.exceptions import ClientError
from moto import mock_aws

from authorizer.api_keys import ApiKeyVerifier
from authorizer.authorize import Authorizer
from authorizer.secret_store import SecretStore
from shared.secret_formats import ApiKeyRecord, api_key_secret_name, new_signing_secret
from shared.settings import AuthorizerSettings
from tests.helpers import authorizer_event

MOTO_CONFIG: Any = {"core": {"reset_boto3_session": False}, "lambda": {"use_docker": False}}
PREFIX = "workflow-api/api-keys/"
SIGNING_SECRET_NAME = "workflow-api/jwt-signing-key"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
ROTATION_DAYS = 30


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "rotate-secret"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:rotate-secret"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"


@dataclass
class Aws:
    """moto's Secrets Manager plus a (never executed) rotation function registered in Lambda."""

    sm: Any
    rotation_function_arn: str


ROTATION_FUNCTION_NAME = "rotate-secret"


@contextmanager
def moto_aws() -> Iterator[Aws]:
    with mock_aws(config=MOTO_CONFIG):
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="rotation", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
        function = boto3.client("lambda").create_function(
            FunctionName=ROTATION_FUNCTION_NAME,
            Runtime="python3.13",
            Role=role,
            Handler="app.lambda_handler",
            Code={"ZipFile": package.getvalue()},
        )
        yield Aws(boto3.client("secretsmanager"), function["FunctionArn"])


def create_signing_secret(aws: Aws, value: str | None = None) -> str:
    """The signing secret, named as configuration names it; returns its ARN."""
    created = aws.sm.create_secret(
        Name=SIGNING_SECRET_NAME, SecretString=value or new_signing_secret()
    )
    return str(created["ARN"])


def create_api_key_secret(aws: Aws, record: ApiKeyRecord | None = None) -> tuple[str, str]:
    """An API key's secret as the admin endpoint writes it; returns (ARN, key value)."""
    record = record or ApiKeyRecord.issue("billing-service", ["workflow:read", "workflow:trigger"])
    created = aws.sm.create_secret(
        Name=api_key_secret_name(PREFIX, record.key_id), SecretString=record.to_secret_string()
    )
    return str(created["ARN"]), record.api_key


def start_rotation(aws: Aws, secret_id: str) -> str:
    """What Secrets Manager does before invoking the function: configure rotation and add an
    empty AWSPENDING version. moto invokes its stand-in Lambda, which does nothing. The
    function ARN is always passed: moto forgets it on a `rotate_secret` without one."""
    response = aws.sm.rotate_secret(
        SecretId=secret_id,
        RotationLambdaARN=aws.rotation_function_arn,
        RotationRules={"AutomaticallyAfterDays": ROTATION_DAYS},
    )
    return str(response["VersionId"])


def rotation_event(step: str, secret_arn: str, token: str) -> dict[str, Any]:
    return {
        "Step": step,
        "SecretId": secret_arn,
        "ClientRequestToken": token,
        "RotationToken": "0d5e7b52-1bb4-4d8d-8a0c-7b0f1c4b1c2a",
    }


def run_step(step: str, secret_id: str, token: str) -> None:
    from functions.rotate_secret import app  # noqa: PLC0415 - after moto is active

    app.lambda_handler(rotation_event(step, secret_id, token), FakeLambdaContext())


def run_rotation(secret_id: str, token: str) -> None:
    for step in STEPS:
        run_step(step, secret_id, token)


@dataclass(frozen=True)
class Version:
    stages: tuple[str, ...]
    value: str | None


def versions(aws: Aws, secret_id: str) -> dict[str, Version]:
    """Every version of the secret with its labels and value (None: an empty version)."""
    described = aws.sm.describe_secret(SecretId=secret_id)
    found: dict[str, Version] = {}
    for version_id, stages in described["VersionIdsToStages"].items():
        try:
            value = aws.sm.get_secret_value(SecretId=secret_id, VersionId=version_id)
            secret_string: str | None = value["SecretString"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            secret_string = None
        found[version_id] = Version(tuple(sorted(stages)), secret_string)
    return found


def labelled(aws: Aws, secret_id: str, stage: str) -> list[str]:
    """Ids of the versions carrying `stage` (a healthy secret has at most one)."""
    return [vid for vid, version in versions(aws, secret_id).items() if stage in version.stages]


def value_of(aws: Aws, secret_id: str, stage: str) -> str:
    return str(aws.sm.get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"])


# -- the real authorizer -----------------------------------------------------------------


@dataclass
class Clocks:
    """Fake clocks for the authorizer's secret cache (monotonic) and grace window (wall)."""

    monotonic: float = 1_000.0
    wall_offset: float = 0.0

    def wall(self) -> float:
        return time.time() + self.wall_offset

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds
        self.wall_offset += seconds


def real_authorizer(aws: Aws, settings: AuthorizerSettings, clocks: Clocks) -> Authorizer:
    """The authorizer `authorizer.app` runs, with its caches on fake clocks and moto's client."""
    store = SecretStore(
        settings.secret_cache_seconds, client_factory=lambda: aws.sm, clock=lambda: clocks.monotonic
    )
    built = Authorizer(settings, store=store)
    built.api_keys = ApiKeyVerifier(settings, store, wall_clock=clocks.wall)
    return built


def call_authorizer(event: dict[str, Any]) -> str:
    """'allow', 'deny' or 'unauthorized', as API Gateway would see the real handler's answer."""
    from authorizer import app  # noqa: PLC0415

    try:
        answer = app.lambda_handler(event, FakeLambdaContext())
    except Exception as error:
        if str(error) == "Unauthorized":
            return "unauthorized"
        raise
    invoked = event["methodArn"]
    for statement in answer["policyDocument"]["Statement"]:
        if statement["Effect"] == "Allow" and invoked in statement["Resource"]:
            return "allow"
    return "deny"


def service_token(signing_secret: str, *, with_kid: bool = True, lifetime: int = 600) -> str:
    """A service token signed with one version of the signing secret."""
    data = json.loads(signing_secret)
    now = int(time.time())
    claims = {"sub": "orders-service", "iat": now, "exp": now + lifetime, "scope": "workflow:read"}
    headers = {"kid": data["kid"]} if with_kid else None
    return jwt.encode(claims, data["key"].encode(), algorithm="HS256", headers=headers)


def bearer_call(token: str) -> str:
    return call_authorizer(
        authorizer_event("GET", "/api/automate", headers={"Authorization": f"Bearer {token}"})
    )


def api_key_call(key: str) -> str:
    return call_authorizer(authorizer_event("GET", "/api/internal", headers={"X-Api-Key": key}))
