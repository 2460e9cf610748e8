"""Secrets Manager rotation (the rotation function, `functions/rotate_secret`): the four steps
of AWS's rotation protocol for the signing secret and for API key secrets.

`rotator` holds the steps; the rotation function wires them to the authorizer's own
verification code, which `testSecret` proves a pending value with.
"""

from shared.rotation.rotator import (
    Outcome,
    PendingValueTester,
    RotationError,
    RotationRequest,
    Rotator,
    SecretKind,
    Step,
    StepResult,
)

__all__ = [
    "Outcome",
    "PendingValueTester",
    "RotationError",
    "RotationRequest",
    "Rotator",
    "SecretKind",
    "Step",
    "StepResult",
]
