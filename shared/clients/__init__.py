"""Clients of the token service (`POST /oauth/token`, `/api/admin/clients`, `wfctl clients`).

- `form`: reading a token request and its one client authentication method;
- `authentication`: client secrets (constant time) and private_key_jwt assertions;
- `issuance`: the scopes a client is granted and the token it gets;
- `store`: client secrets and the signing key (cached), lockout counters and spent assertions;
- `service`: `TokenService`, the token endpoint and its metadata, audited;
- `requests` and `admin`: registering, listing, rotating and revoking clients;
- `errors`: what can go wrong, as domain errors (RFC 6749 codes for the token endpoint).

The client secret's format is `shared.secret_formats.ClientRecord` (the rotation function
rotates it too); verifying issued tokens is the authorizer's (`jwt` scheme), unchanged.
"""

from shared.clients.admin import ClientAdmin, default_admin
from shared.clients.authentication import (
    ASSERTION_ALGORITHMS,
    secret_matches,
    verify_assertion,
)
from shared.clients.errors import (
    ClientExistsError,
    ClientRotationInProgressError,
    ClientStoreBusyError,
    ClientStoreFailedError,
    InvalidClientError,
    InvalidClientScopesError,
    InvalidDpopProofError,
    InvalidJwksError,
    InvalidLifetimeError,
    InvalidScopeError,
    MalformedClientIdError,
    MalformedTokenRequestError,
    NoCredentialError,
    UnknownClientError,
    UnsupportedGrantTypeError,
)
from shared.clients.form import ASSERTION_TYPE, AuthMethod, TokenHttpRequest
from shared.clients.issuance import IssuedToken, grant_scopes
from shared.clients.requests import (
    ClientRotationStarted,
    ClientSummary,
    RegisteredClient,
    RegisterRequest,
    RevokedClient,
    parse_client_id,
    parse_jwks,
    parse_register_request,
)
from shared.clients.service import TokenService, default_service
from shared.clients.settings import ClientAdminSettings, TokenServiceSettings

__all__ = [
    "ASSERTION_ALGORITHMS",
    "ASSERTION_TYPE",
    "AuthMethod",
    "ClientAdmin",
    "ClientAdminSettings",
    "ClientExistsError",
    "ClientRotationInProgressError",
    "ClientRotationStarted",
    "ClientStoreBusyError",
    "ClientStoreFailedError",
    "ClientSummary",
    "InvalidClientError",
    "InvalidClientScopesError",
    "InvalidDpopProofError",
    "InvalidJwksError",
    "InvalidLifetimeError",
    "InvalidScopeError",
    "IssuedToken",
    "MalformedClientIdError",
    "MalformedTokenRequestError",
    "NoCredentialError",
    "RegisterRequest",
    "RegisteredClient",
    "RevokedClient",
    "TokenHttpRequest",
    "TokenService",
    "TokenServiceSettings",
    "UnknownClientError",
    "UnsupportedGrantTypeError",
    "default_admin",
    "default_service",
    "grant_scopes",
    "parse_client_id",
    "parse_jwks",
    "parse_register_request",
    "secret_matches",
    "verify_assertion",
]
