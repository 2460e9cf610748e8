"""Fixtures of the rotation tests: moto's Secrets Manager and the rotation function wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.observability import metrics
from tests.integration.rotation.support import Aws, moto_aws


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    from functions.rotate_secret import app  # noqa: PLC0415 - after tests/conftest.py set AWS env

    with moto_aws() as env:
        # The function's per-container client, pointed at this test's moto.
        rotator = app.Rotator(env.sm, app.AuthorizerChecks(app.SETTINGS))
        monkeypatch.setattr(app, "_rotator", rotator)
        yield env
    metrics.clear_metrics()
