"""What can go wrong with the token service and its clients, as domain errors.

The token endpoint's errors are RFC 6749 section 5.2's codes (`shared.http_api` answers them as
`{"error", "error_description"}` with `Cache-Control: no-store`); the admin API's are the house
shape. Each error's text (its args) is a stable reason for the audit line and the log, never a
secret, an assertion or a token.
"""

from __future__ import annotations

from shared.api_errors import (
    ClientAuthenticationError,
    ConflictError,
    DependencyBusyError,
    DependencyFailedError,
    InvalidRequestError,
    NotFoundError,
    TokenRequestError,
)

# --- the token endpoint (RFC 6749 section 5.2) ----------------------------------------------


class MalformedTokenRequestError(TokenRequestError):
    """A parameter is missing or repeated, the content type or body is wrong, or two client
    authentication methods were used."""

    code = "invalid_request"
    message = "The token request is malformed."

    @property
    def reason(self) -> str:
        return str(self.args[0]) if self.args else "invalid_request"


class UnsupportedGrantTypeError(TokenRequestError):
    """`grant_type` is not `client_credentials`."""

    code = "unsupported_grant_type"
    message = "Only the client_credentials grant type is supported."


class InvalidScopeError(TokenRequestError):
    """A requested scope is malformed (RFC 6749 section 3.3) or outside the client's
    `allowed_scopes`."""

    code = "invalid_scope"
    message = "The requested scope is malformed or not allowed for this client."


class InvalidDpopProofError(TokenRequestError):
    """The `DPoP` proof of a token request is invalid, repeated, or replayed; or missing while
    DPoP is required (RFC 9449 section 5)."""

    code = "invalid_dpop_proof"
    message = "The DPoP proof is missing, invalid or already used."


class InvalidClientError(ClientAuthenticationError):
    """Unknown, revoked or wrongly authenticated client, or a source IP locked out."""


# --- the admin API (/api/admin/clients) ------------------------------------------------------


class MalformedClientIdError(InvalidRequestError):
    """A client id is not `[a-z0-9][a-z0-9-]{2,63}`."""

    code = "invalid_client_id"
    message = "A client id is 3 to 64 lowercase letters, digits or '-', starting alphanumeric."


class InvalidClientScopesError(InvalidRequestError):
    """`scopes` is not a non-empty list of known scopes."""

    code = "invalid_client_scopes"
    message = "scopes must be a non-empty list of known scopes, such as workflow:read."


class InvalidJwksError(InvalidRequestError):
    """`jwks` is not a set of public signing keys this service can verify assertions with."""

    code = "invalid_jwks"
    message = 'jwks must be {"keys": [...]} of public RSA, EC or OKP signing keys with a kid.'


class InvalidLifetimeError(InvalidRequestError):
    """`tokenLifetimeSeconds` is not an integer from 60 to `TOKEN_LIFETIME_SECONDS`."""

    code = "invalid_token_lifetime"
    message = "tokenLifetimeSeconds must be an integer from 60 to the service's token lifetime."


class NoCredentialError(InvalidRequestError):
    """A client without a secret needs keys (`jwks`), or a key-only client was asked to rotate a
    secret it does not have."""

    code = "no_credential"
    message = "A client needs a secret or a jwks; key-only clients have no secret to rotate."


class ClientExistsError(ConflictError):
    """A client with this id exists (or awaits deletion)."""

    code = "client_exists"
    message = "A client with this id already exists."


class UnknownClientError(NotFoundError):
    """No such client, or it is revoked and scheduled for deletion."""

    code = "unknown_client"
    message = "No such client."


class ClientRotationInProgressError(ConflictError):
    """A rotation of the client's secret has started and not finished."""

    code = "client_rotation_in_progress"
    message = "A rotation of this client's secret is in progress; retry once it has finished."


class ClientStoreBusyError(DependencyBusyError):
    """Secrets Manager or the security table throttled us or could not be reached."""

    code = "client_store_unavailable"
    message = "The client store is busy; retry later."


class ClientStoreFailedError(DependencyFailedError):
    """Secrets Manager refused a call, or holds a client secret this project did not write."""

    code = "client_store_error"
    message = "The client store could not process the request."
