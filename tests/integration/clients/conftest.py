"""Fixtures of the token-service tests: moto's Secrets Manager and DynamoDB, the signing
secret, the token functions' container state reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from shared import clients
from shared.clients import service as token_service
from shared.observability import metrics
from tests.integration.clients.support import ENVIRONMENT, Env, create_table
from tests.integration.rotation.support import create_signing_secret, moto_aws


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    from functions.rotate_secret import app as rotation  # noqa: PLC0415 - after the AWS env

    with moto_aws() as aws:
        for name, value in ENVIRONMENT.items():
            monkeypatch.setenv(name, value)
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb)
        arn = create_signing_secret(aws)
        monkeypatch.setattr(token_service, "new_secrets_client", lambda: aws.sm)
        monkeypatch.setattr(token_service, "new_dynamodb_client", lambda: dynamodb)
        monkeypatch.setenv("ROTATION_FUNCTION_ARN", aws.rotation_function_arn)
        monkeypatch.setattr(clients.admin, "new_client", lambda: aws.sm)
        rotator = rotation.Rotator(aws.sm, rotation.AuthorizerChecks(rotation.SETTINGS))
        monkeypatch.setattr(rotation, "_rotator", rotator)
        clients.default_service.cache_clear()
        clients.default_admin.cache_clear()
        yield Env(aws, dynamodb, arn)
        clients.default_service.cache_clear()
        clients.default_admin.cache_clear()
    metrics.clear_metrics()
