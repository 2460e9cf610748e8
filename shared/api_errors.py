"""What can go wrong while serving an API request, as domain errors (no HTTP in here).

One root, one branch per kind of answer the client gets. Each concrete error carries a stable
`code` and a fixed, generic `message`: that is all a client ever sees. The exception's own text
(its args) is the detail for the logs. `shared.http_api` is the one place that turns these
into HTTP statuses; capabilities subclass them with their own codes.
"""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """Root of every error a handler answers with a client-visible status."""

    code: ClassVar[str] = "error"
    message: ClassVar[str] = "The request failed."


class InvalidRequestError(ApiError):
    """The request is malformed: body, path or query parameters, headers (400)."""

    code = "invalid_request"
    message = "The request is malformed."


class MalformedBodyError(InvalidRequestError):
    """The body is not JSON, not a JSON object, or misses or mistypes a field."""

    code = "invalid_body"
    message = "The request body must be a JSON object as documented."


class InvalidLimitError(InvalidRequestError):
    """A list endpoint's `limit` is not an integer from 1 to 100."""

    code = "invalid_limit"
    message = "limit must be an integer from 1 to 100."


class InvalidNextTokenError(InvalidRequestError):
    """`nextToken` was not issued by this endpoint for this listing, or has expired."""

    code = "invalid_next_token"
    message = "nextToken is malformed or expired."


class UnauthenticatedError(ApiError):
    """The caller's credential is no longer valid: it expired while API Gateway reused the
    policy it had cached for it (401)."""

    code = "unauthorized"
    message = "Unauthorized."


class AccessDeniedError(ApiError):
    """The caller is authenticated but its scopes do not cover the action (403)."""

    code = "forbidden"
    message = "Forbidden."


class MissingCallerContextError(AccessDeniedError):
    """The event carries no authorizer context: the function was reached without the authorizer.

    Fail closed: nobody is allowed what we cannot attribute to a caller.
    """


class NotFoundError(ApiError):
    """The addressed resource does not exist (404)."""

    code = "not_found"
    message = "Not found."


class ConflictError(ApiError):
    """The request conflicts with the resource's current state (409)."""

    code = "conflict"
    message = "The request conflicts with the current state of the resource."


class PayloadTooLargeError(ApiError):
    """The body (or what it would become) is over a size limit (413)."""

    code = "payload_too_large"
    message = "The request body is too large."


class UnsupportedMediaTypeError(ApiError):
    """The body is not declared as JSON (415)."""

    code = "unsupported_media_type"
    message = "The request body must be sent as application/json."


class DependencyBusyError(ApiError):
    """An AWS service throttled us or could not be reached; retrying later may work (503)."""

    code = "service_unavailable"
    message = "The service is busy; retry later."
    retry_after_seconds: ClassVar[int] = 2


class DependencyFailedError(ApiError):
    """An AWS service answered with an error that retrying will not fix (502)."""

    code = "upstream_error"
    message = "The workflow engine could not process the request."


class TokenEndpointError(ApiError):
    """An RFC 6749 section 5.2 error of the token endpoint: answered as
    `{"error": <code>, "error_description": <fixed text>}` with `Cache-Control: no-store`."""

    code = "invalid_request"
    message = "The token request is malformed."


class TokenRequestError(TokenEndpointError):
    """The token request itself is refused: parameters, grant type, scope (400)."""


class ClientAuthenticationError(TokenEndpointError):
    """Client authentication failed (401, RFC 6749 `invalid_client`)."""

    code = "invalid_client"
    message = "Client authentication failed."

    def __init__(self, detail: str, *, basic_tried: bool = False) -> None:
        super().__init__(detail)
        self.basic_tried = basic_tried
        """The client tried the `Authorization` header: the answer carries a Basic challenge
        (RFC 6749 section 5.2)."""
