"""Fixtures of the admin endpoint tests: the three handlers and the rotation function, all
pointed at one moto Secrets Manager, and the real authorizer next to them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import api_keys
from shared.observability import metrics
from tests.integration.rotation.support import PREFIX, Aws, moto_aws


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    from functions.rotate_secret import app as rotation  # noqa: PLC0415 - after the AWS env

    with moto_aws() as env:
        # The admin functions' settings and client are built on first use: from this env, and
        # with the tests' client (so that a test can make Secrets Manager fail).
        monkeypatch.setenv("ROTATION_FUNCTION_ARN", env.rotation_function_arn)
        monkeypatch.setenv("API_KEY_SECRET_PREFIX", PREFIX)
        monkeypatch.setattr(api_keys.admin, "new_client", lambda: env.sm)
        api_keys.default_admin.cache_clear()
        rotator = rotation.Rotator(env.sm, rotation.AuthorizerChecks(rotation.SETTINGS))
        monkeypatch.setattr(rotation, "_rotator", rotator)
        yield env
        api_keys.default_admin.cache_clear()
    metrics.clear_metrics()
