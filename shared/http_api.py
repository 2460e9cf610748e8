"""The HTTP boundary shared by the handler functions: the one mapping from domain errors to
HTTP answers, reading the caller and a JSON body, the audit line, and resolving an event.

Error bodies are fixed and generic (`{"error": <code>, "message": <text>}`); what went wrong in
detail goes to the log only. No path through here answers with a stack trace.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from shared.api_errors import (
    AccessDeniedError,
    ApiError,
    ConflictError,
    DependencyBusyError,
    DependencyFailedError,
    InvalidRequestError,
    MalformedBodyError,
    MissingCallerContextError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from shared.caller import Caller, MissingCallerError
from shared.observability import logger, metrics
from shared.routes import ROUTES

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

#: The one table from error branch to HTTP status (most specific class first is not needed:
#: lookup walks each error's MRO and stops at the first branch listed here).
STATUS_BY_ERROR: dict[type[ApiError], int] = {
    InvalidRequestError: 400,
    AccessDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    DependencyFailedError: 502,
    DependencyBusyError: 503,
}

#: A body is read only up to this size. API Gateway accepts 10 MB; no start request can be
#: valid above Step Functions' 256 KiB input limit plus JSON whitespace, so 1 MiB bounds the
#: parse without refusing a valid request.
MAX_BODY_BYTES = 1024 * 1024

_JSON_MEDIA_TYPE = re.compile(r"application/(?:[A-Za-z0-9.!#$&^_-]+\+)?json", re.IGNORECASE)

INTERNAL_ERROR_BODY = {"error": "internal_error", "message": "Internal error."}


def status_of(error: ApiError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400  # an ApiError outside the table is still the caller's to fix, never a 500


def error_response(error: ApiError) -> Response[dict[str, str]]:
    status = status_of(error)
    headers: dict[str, str] = {}
    if isinstance(error, DependencyBusyError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error.code, "message": error.message},
        headers=headers,
    )


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Register the mapping on a resolver: domain errors, unknown routes, and everything else."""

    def _api_error(error: ApiError) -> Response[dict[str, str]]:
        status = status_of(error)
        # The client gets the fixed text; the log gets the detail (never a credential: the
        # details are built from ids and AWS error codes only).
        log = logger.warning if status < 500 else logger.error
        log(
            "request refused",
            status=status,
            error_code=error.code,
            detail=str(error),
            cause=repr(error.__cause__) if error.__cause__ else None,
        )
        metrics.add_metric(name="RequestRefused", unit=MetricUnit.Count, value=1)
        return error_response(error)

    @app.not_found
    def _no_route(_: Exception) -> Response[dict[str, str]]:
        # This function was reached for a path it does not serve: the template wired it wrong.
        logger.error("no route in this function", path=app.current_event.path)
        return error_response(NotFoundError("no route"))

    def _unexpected(error: Exception) -> Response[dict[str, str]]:
        # A bug or a misconfiguration (ConfigurationError names the variable): log it whole,
        # answer with a generic body. This is the only path to a 500.
        logger.exception("unexpected error", error_type=type(error).__name__)
        metrics.add_metric(name="UnexpectedError", unit=MetricUnit.Count, value=1)
        return Response(
            status_code=500, content_type=content_types.APPLICATION_JSON, body=INTERNAL_ERROR_BODY
        )

    # Registered by call rather than as decorators: Powertools' decorator is untyped.
    app.exception_handler(ApiError)(_api_error)
    app.exception_handler(Exception)(_unexpected)


def caller_of(app: APIGatewayRestResolver) -> Caller:
    """The caller as the authorizer described it (`requestContext.authorizer`)."""
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer")
    try:
        return Caller.from_authorizer_context(authorizer)
    except MissingCallerError as exc:
        raise MissingCallerContextError(str(exc)) from None


def request_id(app: APIGatewayRestResolver) -> str:
    """API Gateway's request id (the one in its access log), for audit and run input."""
    context = app.current_event.raw_event.get("requestContext") or {}
    value = context.get("requestId")
    return value if isinstance(value, str) and value else "unknown"


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    """A request header, case-insensitively (Powertools' headers are a CaseInsensitiveDict)."""
    value = app.current_event.headers.get(name)
    return value if isinstance(value, str) else None


def json_body(app: APIGatewayRestResolver) -> Any:
    """The body parsed as JSON, or None when there is none. Checks type, size and syntax.

    415 unless the body is declared JSON (`application/json`, `application/<x>+json`, any
    parameters); 413 over `MAX_BODY_BYTES`; 400 when it is not valid UTF-8 JSON. `NaN` and
    `Infinity` are refused: Step Functions and most clients reject them.
    """
    event = app.current_event
    raw = event.body
    if raw is None or raw == "":
        return None
    media_type = (header(app, "Content-Type") or "").split(";", 1)[0].strip()
    if not _JSON_MEDIA_TYPE.fullmatch(media_type):
        raise UnsupportedMediaTypeError(f"content type {media_type[:80]!r}")
    # base64 inflates by 4/3, so check the encoded length against that bound before decoding.
    limit = MAX_BODY_BYTES * 4 // 3 + 4 if event.is_base64_encoded else MAX_BODY_BYTES
    if len(raw) > limit:
        raise PayloadTooLargeError(f"body of {len(raw)} characters")
    try:
        text = event.decoded_body or ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MalformedBodyError("body is not valid base64 UTF-8") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise PayloadTooLargeError("body over the limit")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise MalformedBodyError("body is not JSON") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def base_path(app: APIGatewayRestResolver) -> str:
    """What precedes the route path in the URL the client called (`/v1` on execute-api).

    `requestContext.path` is the path as called (stage or custom-domain base path included),
    `path` is the route path; the difference is the prefix a `Location` header needs.
    """
    event = app.current_event.raw_event
    called = (event.get("requestContext") or {}).get("path")
    path = event.get("path") or ""
    if isinstance(called, str) and path and called.endswith(path):
        return called[: len(called) - len(path)].rstrip("/")
    return ""


def audit(action: str, caller: Caller, request: str, **fields: Any) -> None:
    """One structured line per state-changing action: who, what, on what, from which request."""
    logger.info(
        "audit",
        audit=True,
        action=action,
        principal=caller.principal,
        scheme=caller.scheme,
        key_id=caller.key_id,
        client_id=caller.client_id,
        request_id=request,
        **fields,
    )


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext) -> Any:
    """Resolve an API Gateway event and count the answer by class (every invocation emits
    at least one metric, so Powertools never flushes an empty set)."""
    result: dict[str, Any] = app.resolve(event, context)
    status = int(result.get("statusCode", 500))
    outcome = "ResponseOk" if status < 400 else "ResponseClientError"
    if status >= 500:
        outcome = "ResponseServerError"
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    return result


def authorize(app: APIGatewayRestResolver, function: str, workflow_id: str | None = None) -> Caller:
    """The caller, if the route table lets it call `function`'s route (on `workflow_id`).

    API Gateway already enforced the authorizer's policy; checking again here costs nothing
    and is the only check for what the policy cannot see (the body's `workflowId` on
    `POST /api/trigger`, SPEC "Precise rules").
    """
    caller = caller_of(app)
    route = next(route for route in ROUTES if route.function == function)
    # allowed_schemes: the route's own restriction within its authorizer's schemes, so an API
    # key (ApiKeyAuthorizer) never reaches a bearer route whatever scopes it carries.
    if caller.scheme not in route.allowed_schemes:
        raise AccessDeniedError(f"scheme {caller.scheme!r} may not call {function}")
    if route.scope is not None and not caller.grants.allows(route.scope, workflow_id):
        raise AccessDeniedError(
            f"{caller.principal!r} lacks {route.scope} on {workflow_id or 'every workflow'}"
        )
    return caller
