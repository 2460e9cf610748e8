"""What can go wrong with an API key request, as domain errors (`shared.http_api` maps them
to HTTP)."""

from __future__ import annotations

from shared.api_errors import (
    ConflictError,
    DependencyBusyError,
    DependencyFailedError,
    InvalidRequestError,
    NotFoundError,
)


class InvalidPrincipalError(InvalidRequestError):
    """`principal` is missing or not a short name of safe characters."""

    code = "invalid_principal"
    message = "principal must be 1 to 128 letters, digits or ._:@/+=-, starting alphanumeric."


class InvalidScopesError(InvalidRequestError):
    """`scopes` is not a list of known scopes (narrowed ones included)."""

    code = "invalid_scopes"
    message = "scopes must be a list of known scopes, such as workflow:read or workflow:read:<id>."


class InvalidRotationPeriodError(InvalidRequestError):
    """`rotateAfterDays` is not an integer within Secrets Manager's bounds."""

    code = "invalid_rotate_after_days"
    message = "rotateAfterDays must be an integer from 1 to 1000."


class MalformedKeyIdError(InvalidRequestError):
    """The key id in the path is not 16 lowercase letters or digits."""

    code = "invalid_key_id"
    message = "A key id is 16 lowercase letters or digits."


class UnknownKeyError(NotFoundError):
    """No such key, or it is revoked and scheduled for deletion (the authorizer's view too)."""

    code = "unknown_key"
    message = "No such API key."


class RotationInProgressError(ConflictError):
    """A rotation of the key has started and not finished."""

    code = "rotation_in_progress"
    message = "A rotation of this key is in progress; retry once it has finished."


class KeyStoreBusyError(DependencyBusyError):
    """Secrets Manager throttled us or could not be reached."""

    message = "The key store is busy; retry later."


class KeyStoreFailedError(DependencyFailedError):
    """Secrets Manager refused a call, or holds a secret this project did not write."""

    message = "The key store could not process the request."
