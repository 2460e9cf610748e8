"""Fixtures of the admin endpoint tests: the three handlers and the rotation function, all
pointed at one moto Secrets Manager, and the real authorizer next to them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from shared.observability import metrics
from tests.integration.rotation.support import PREFIX, Aws, moto_aws

# Read by the handlers' settings at import (cold start); moto's stand-in rotation function
# (see support.moto_aws) has exactly this ARN.
os.environ.setdefault(
    "ROTATION_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:rotate-secret"
)
os.environ.setdefault("API_KEY_SECRET_PREFIX", PREFIX)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    from functions.create_api_key import app as create  # noqa: PLC0415 - after the env above
    from functions.revoke_api_key import app as revoke  # noqa: PLC0415
    from functions.rotate_api_key import app as rotate  # noqa: PLC0415
    from functions.rotate_secret import app as rotation  # noqa: PLC0415
    from shared.api_key_admin import ApiKeyAdmin  # noqa: PLC0415

    with moto_aws() as env:
        assert env.rotation_function_arn == os.environ["ROTATION_FUNCTION_ARN"]
        for module in (create, rotate, revoke):
            monkeypatch.setattr(module.ADMIN, "instance", ApiKeyAdmin(env.sm, module.SETTINGS))
        rotator = rotation.Rotator(env.sm, rotation.AuthorizerChecks(rotation.SETTINGS))
        monkeypatch.setattr(rotation, "_rotator", rotator)
        yield env
    metrics.clear_metrics()
