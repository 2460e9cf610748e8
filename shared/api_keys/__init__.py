"""API keys: issuing, rotating and revoking them (`/api/admin/api-keys`, `wfctl api-keys`).

- `requests`: what a valid issue request and key id are (the API and `wfctl` parse with it);
- `admin`: `ApiKeyAdmin`, the three actions against Secrets Manager;
- `errors`: what can go wrong, as domain errors.

The key format and its secret's format are `shared.secret_formats`; verifying a presented key
is the authorizer's (`authorizer/api_keys.py`); rotating its value is `shared.rotation`'s.
"""

from shared.api_keys.admin import (
    AdminSettings,
    ApiKeyAdmin,
    default_admin,
)
from shared.api_keys.errors import (
    InvalidPrincipalError,
    InvalidRotationPeriodError,
    InvalidScopesError,
    KeyStoreBusyError,
    KeyStoreFailedError,
    MalformedKeyIdError,
    RotationInProgressError,
    UnknownKeyError,
)
from shared.api_keys.requests import (
    DEFAULT_ROTATE_AFTER_DAYS,
    PRINCIPAL_PATTERN,
    IssuedKey,
    IssueRequest,
    RevokedKey,
    RotationStarted,
    parse_issue_request,
    parse_key_id,
    parse_principal,
    parse_scopes,
)
from shared.secret_lifecycle import REVOKED_STAGE

__all__ = [
    "DEFAULT_ROTATE_AFTER_DAYS",
    "PRINCIPAL_PATTERN",
    "REVOKED_STAGE",
    "AdminSettings",
    "ApiKeyAdmin",
    "InvalidPrincipalError",
    "InvalidRotationPeriodError",
    "InvalidScopesError",
    "IssueRequest",
    "IssuedKey",
    "KeyStoreBusyError",
    "KeyStoreFailedError",
    "MalformedKeyIdError",
    "RevokedKey",
    "RotationInProgressError",
    "RotationStarted",
    "UnknownKeyError",
    "default_admin",
    "parse_issue_request",
    "parse_key_id",
    "parse_principal",
    "parse_scopes",
]
