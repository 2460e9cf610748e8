"""The Secrets Manager lifecycle of a rotated credential's secret, shared by API keys and
token-service clients: start a rotation now, and revoke-then-delete.

Both capabilities keep one secret per credential, rotated by the rotation function. What is
theirs (the record's format, their errors) comes in as arguments; the protocol around the
staging labels is written once, here. Calls run inside the caller's `aws.Boundary`, so
botocore never leaves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from shared import aws
from shared.secret_formats import AWSCURRENT, AWSPENDING

#: Staging label of the version that revoked a credential (it also carries AWSCURRENT).
#: Writing the revoked version under its own label and then moving AWSCURRENT, instead of
#: writing it straight as AWSCURRENT, uses the one label operation finishSecret uses too.
REVOKED_STAGE = "REVOKED"


def rotation_in_progress(versions: Mapping[str, Sequence[str]]) -> bool:
    """AWSPENDING on a version other than AWSCURRENT is how Secrets Manager itself tells an
    unfinished rotation (RotateSecret refuses to start another)."""
    return any(AWSPENDING in stages and AWSCURRENT not in stages for stages in versions.values())


def current_version(metadata: Mapping[str, Any]) -> str | None:
    """The id of the version labelled AWSCURRENT, from `DescribeSecret`'s answer."""
    versions = metadata.get("VersionIdsToStages", {})
    return next((v for v, stages in versions.items() if AWSCURRENT in stages), None)


def start_rotation(
    client: Any,
    boundary: aws.Boundary,
    metadata: Mapping[str, Any],
    *,
    rotation_function: Callable[[], str],
    default_days: int,
    in_progress: aws.ErrorFactory,
) -> str:
    """Rotate the secret now; the new version's id. `in_progress` when a rotation runs.

    The configured function and rules are passed again (AWS keeps them as they are; moto
    forgets the function when it is left out); a secret whose schedule was never set up gets
    `default_days`.
    """
    if rotation_in_progress(metadata.get("VersionIdsToStages", {})):
        raise in_progress(f"{metadata.get('Name')} has a pending version")
    rules: Any = (
        metadata.get("RotationRules")
        if metadata.get("RotationEnabled")
        else {"AutomaticallyAfterDays": default_days}
    )
    function = metadata.get("RotationLambdaARN") or rotation_function()
    # "A previous rotation isn't complete", or the credential was revoked meanwhile.
    with boundary.translated(InvalidRequestException=in_progress):
        response = client.rotate_secret(
            SecretId=metadata["ARN"], RotationLambdaARN=function, RotationRules=rules
        )
    return str(response.get("VersionId", ""))


def revoke_and_delete(
    client: Any,
    boundary: aws.Boundary,
    metadata: Mapping[str, Any],
    revoked_value: str | None,
    *,
    recovery_days: int,
) -> datetime | None:
    """Make `revoked_value` (the record marked revoked; None when AWSCURRENT already is) the
    AWSCURRENT version, disarm any half-done rotation, cancel the schedule and schedule the
    secret's deletion; the deletion date.

    Revoked first, deleted second: a failure in between leaves a refused credential, and a
    retried revocation finds it revoked and carries on.
    """
    arn = metadata["ARN"]
    versions = metadata.get("VersionIdsToStages", {})
    with boundary.translated():
        if revoked_value is not None:
            written = client.put_secret_value(
                SecretId=arn, SecretString=revoked_value, VersionStages=[REVOKED_STAGE]
            )
            client.update_secret_version_stage(
                SecretId=arn,
                VersionStage=AWSCURRENT,
                MoveToVersionId=written["VersionId"],
                RemoveFromVersionId=current_version(metadata),
            )
        # Disarm a half-done rotation: its pending value is not revoked and must never become
        # AWSCURRENT (the secret may still be restored within the recovery window). A label
        # left on the old AWSCURRENT by a finished rotation goes too: that version is
        # AWSPREVIOUS now, where AWSPENDING would read as a rotation in progress.
        for version_id, stages in versions.items():
            if AWSPENDING in stages:
                client.update_secret_version_stage(
                    SecretId=arn, VersionStage=AWSPENDING, RemoveFromVersionId=version_id
                )
        if metadata.get("RotationEnabled"):
            client.cancel_rotate_secret(SecretId=arn)
        deleted = client.delete_secret(SecretId=arn, RecoveryWindowInDays=recovery_days)
    date = deleted.get("DeletionDate")
    return date if isinstance(date, datetime) else None
