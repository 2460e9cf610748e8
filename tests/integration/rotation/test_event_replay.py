"""The rotation function's sample events (`events/rotate_secret/*.json`) replayed in order.

Secrets Manager names the secret by an ARN with a random suffix and the version by a fresh
token; moto's differ from the samples', so those two fields are swapped for moto's. The rest
of each file (its step, its shape) is what drives the function.
"""

from __future__ import annotations

from functions.rotate_secret import app
from shared.secret_formats import AWSCURRENT
from tests.helpers import EVENTS, load_event
from tests.integration.rotation.support import (
    Aws,
    FakeLambdaContext,
    create_signing_secret,
    start_rotation,
    versions,
)

IN_ORDER = ("create-secret", "set-secret", "test-secret", "finish-secret")


def test_the_samples_are_the_four_steps() -> None:
    assert sorted(path.stem for path in (EVENTS / "rotate_secret").glob("*.json")) == sorted(
        IN_ORDER
    )
    for name in IN_ORDER:
        event = load_event(f"rotate_secret/{name}.json")
        assert set(event) == {"Step", "SecretId", "ClientRequestToken", "RotationToken"}
        assert event["SecretId"].startswith("arn:aws:secretsmanager:")


def test_the_samples_replayed_in_order_rotate_the_secret(aws: Aws) -> None:
    arn = create_signing_secret(aws)
    token = start_rotation(aws, arn)
    for name in IN_ORDER:
        event = load_event(f"rotate_secret/{name}.json") | {
            "SecretId": arn,
            "ClientRequestToken": token,
        }
        app.lambda_handler(event, FakeLambdaContext())
    assert versions(aws, arn)[token].stages == (AWSCURRENT,)
