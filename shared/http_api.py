"""The HTTP boundary of the handler functions: one endpoint pattern, one typed request, and the
one mapping from domain errors to HTTP answers.

A handler function is one `Endpoint` (its route comes from the route table, by the function's
name), one route function that takes an `ApiRequest`, and `lambda_handler`:

    endpoint = Endpoint("get_run")

    @endpoint.route
    def get_run(request: ApiRequest, workflowId: str, runId: str) -> dict[str, Any]:
        request.authorize(workflowId)
        return runs.default_service().get_run(workflowId, runId).as_json()

Error bodies are fixed and generic (`{"error": <code>, "message": <text>}`); what went wrong in
detail goes to the log only. No path through here answers with a stack trace.
"""

from __future__ import annotations

import binascii
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from shared.api_errors import (
    AccessDeniedError,
    ApiError,
    ClientAuthenticationError,
    ConflictError,
    DependencyBusyError,
    DependencyFailedError,
    InvalidLimitError,
    InvalidRequestError,
    MalformedBodyError,
    MissingCallerContextError,
    NotFoundError,
    PayloadTooLargeError,
    TokenEndpointError,
    TokenRequestError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
)
from shared.caller import Caller, MissingCallerError
from shared.observability import logger, metrics, write_audit
from shared.routes import Route, route_of
from shared.settings import DEFAULT_CLOCK_SKEW_SECONDS, env_int

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
    from aws_lambda_powertools.utilities.typing import LambdaContext

#: The one table from error branch to HTTP status (lookup walks each error's MRO and stops at
#: the first branch listed here).
STATUS_BY_ERROR: dict[type[ApiError], int] = {
    TokenRequestError: 400,
    ClientAuthenticationError: 401,
    InvalidRequestError: 400,
    UnauthenticatedError: 401,
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

#: Pages hold at most this many items, whatever `limit` asks for.
MAX_PAGE_SIZE = 100

_JSON_MEDIA_TYPE = re.compile(r"application/(?:[A-Za-z0-9.!#$&^_-]+\+)?json", re.IGNORECASE)
#: ASCII digits only: `int()` would also take " 5", "+5", "1_0" and other scripts' digits
#: (`'²'.isdigit()` is true, and `int('²')` raises).
_LIMIT = re.compile(r"[0-9]{1,3}")

INTERNAL_ERROR_BODY = {"error": "internal_error", "message": "Internal error."}

RouteFunction = TypeVar("RouteFunction", bound=Callable[..., Any])


#: Longest text of one logged detail. Details may quote what a client sent (a field name, a
#: content type): a client must not be able to write an 800 KB log line with one request.
MAX_LOGGED_DETAIL = 300


def bounded(text: str, limit: int = MAX_LOGGED_DETAIL) -> str:
    """`text`, cut to `limit` characters (marked with an ellipsis when cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_of(error: ApiError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400  # an ApiError outside the table is still the caller's to fix, never a 500


#: Headers of every token-endpoint answer, success or error (RFC 6749 sections 5.1 and 5.2).
NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: The challenge of a token-endpoint 401 when the client tried HTTP Basic (RFC 6749 section 5.2).
BASIC_CHALLENGE = 'Basic realm="workflow-api"'


def error_response(error: ApiError) -> Response[dict[str, str]]:
    status = status_of(error)
    headers: dict[str, str] = {}
    if isinstance(error, DependencyBusyError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, UnauthenticatedError):
        # RFC 6750 section 3.1, as API Gateway's own 401 answers say it.
        headers["WWW-Authenticate"] = 'Bearer realm="workflow-api", error="invalid_token"'
    if isinstance(error, TokenEndpointError):
        # RFC 6749 section 5.2's shape, never cached.
        headers.update(NO_STORE_HEADERS)
        if isinstance(error, ClientAuthenticationError) and error.basic_tried:
            headers["WWW-Authenticate"] = BASIC_CHALLENGE
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body={"error": error.code, "error_description": error.message},
            headers=headers,
        )
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error.code, "message": error.message},
        headers=headers,
    )


# --- the request ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """Which page a list endpoint is asked for: `limit` and the opaque `nextToken`."""

    limit: int
    next_token: str | None


def parse_page(query: Mapping[str, str] | None, *, default_limit: int) -> Page:
    """`limit` (ASCII digits, 1 to `MAX_PAGE_SIZE`) and `nextToken` (left to the store that
    issued it to check) of a list endpoint's query string."""
    query = query or {}
    raw = query.get("limit")
    if raw is None:
        limit = default_limit
    elif _LIMIT.fullmatch(raw) and 1 <= int(raw) <= MAX_PAGE_SIZE:
        limit = int(raw)
    else:
        raise InvalidLimitError(f"limit {raw[:10]!r} out of range")
    return Page(limit, query.get("nextToken"))


class ApiRequest:
    """What a route function reads of its request: the authorized caller, the request id, headers,
    the query, and the JSON body on demand."""

    def __init__(
        self,
        event: APIGatewayProxyEvent,
        route: Route,
        *,
        clock: Callable[[], float] = time.time,
        clock_skew_seconds: float = DEFAULT_CLOCK_SKEW_SECONDS,
    ) -> None:
        self.event = event
        self.route = route
        self._clock = clock
        self._skew = clock_skew_seconds

    def authorize(self, workflow_id: str | None = None) -> Caller:
        """The caller, if it is still authenticated and the route table lets it call this route
        (on `workflow_id`). The one place a handler reads its caller.

        API Gateway reuses a policy it cached for up to the authorizer's TTL, for every route of
        that authorizer, so the policy alone cannot enforce what changes within that time: a
        token that expired since (401), or a narrowed scope on the workflow acted on, such as
        the body's `workflowId` on `POST /api/trigger` (403).
        """
        caller = self._caller
        if caller.expired(self._clock(), self._skew):
            raise UnauthenticatedError(
                f"{caller.scheme} credential of {caller.principal!r} expired"
            )
        route = self.route
        # allowed_schemes: the route's own restriction within its authorizer's schemes, so an
        # API key (ApiKeyAuthorizer) never reaches a bearer route whatever scopes it carries.
        if caller.scheme not in route.allowed_schemes:
            raise AccessDeniedError(f"scheme {caller.scheme!r} may not call {route.function}")
        if route.scope is not None and not caller.grants.allows(route.scope, workflow_id):
            raise AccessDeniedError(
                f"{caller.principal!r} lacks {route.scope} on {workflow_id or 'every workflow'}"
            )
        return caller

    @cached_property
    def _caller(self) -> Caller:
        """The caller as the authorizer described it (`requestContext.authorizer`)."""
        context = self.event.raw_event.get("requestContext") or {}
        try:
            return Caller.from_authorizer_context(context.get("authorizer"))
        except MissingCallerError as exc:
            raise MissingCallerContextError(str(exc)) from None

    @property
    def request_id(self) -> str:
        """API Gateway's request id (the one in its access log), for audit and run input."""
        context = self.event.raw_event.get("requestContext") or {}
        value = context.get("requestId")
        return value if isinstance(value, str) and value else "unknown"

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively (Powertools' headers are case-insensitive)."""
        value = self.event.headers.get(name)
        return value if isinstance(value, str) else None

    def header_values(self, name: str) -> list[str]:
        """Every value of a request header, case-insensitively (`multiValueHeaders` when API
        Gateway sent them, else the single value)."""
        raw = self.event.raw_event
        wanted = name.lower()
        for key, values in (raw.get("multiValueHeaders") or {}).items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(values, list):
                return [value for value in values if isinstance(value, str)]
        value = self.header(name)
        return [] if value is None else [value]

    @property
    def source_ip(self) -> str:
        """The caller's IP as API Gateway saw it (`requestContext.identity.sourceIp`)."""
        context = self.event.raw_event.get("requestContext") or {}
        value = (context.get("identity") or {}).get("sourceIp")
        return value if isinstance(value, str) else ""

    @property
    def domain_name(self) -> str | None:
        """The host the client called, as API Gateway saw it (`requestContext.domainName`)."""
        context = self.event.raw_event.get("requestContext") or {}
        value = context.get("domainName")
        return value if isinstance(value, str) and value else None

    def page(self, *, default_limit: int) -> Page:
        return parse_page(self.event.query_string_parameters, default_limit=default_limit)

    @property
    def base_path(self) -> str:
        return base_path(self.event.raw_event)

    def json_body(self) -> Any:
        """The body parsed as JSON, or None when there is none. Checks type, size and syntax.

        415 unless the body is declared JSON (`application/json`, `application/<x>+json`, any
        parameters); 413 over `MAX_BODY_BYTES`; 400 when it is not valid UTF-8 JSON. `NaN` and
        `Infinity` are refused: Step Functions and most clients reject them.
        """
        event = self.event
        raw = event.body
        if raw is None or raw == "":
            return None
        media_type = (self.header("Content-Type") or "").split(";", 1)[0].strip()
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


def base_path(raw_event: Mapping[str, Any]) -> str:
    """What precedes the route path in the URL the client called (`/v1` on execute-api).

    `requestContext.path` is the path as called (stage or custom-domain base path included),
    `path` is the route path; the difference is the prefix a `Location` header needs.
    """
    called = (raw_event.get("requestContext") or {}).get("path")
    path = raw_event.get("path") or ""
    if isinstance(called, str) and path and called.endswith(path):
        return called[: len(called) - len(path)].rstrip("/")
    return ""


def audit(action: str, caller: Caller, request_id: str, **fields: Any) -> None:
    """One audit line per state-changing action: who, what, on what, from which request.

    Written by the one audit writer, whatever `POWERTOOLS_LOG_LEVEL` says.
    """
    write_audit(
        "audit",
        audit=True,
        action=action,
        principal=caller.principal,
        scheme=caller.scheme,
        key_id=caller.key_id,
        client_id=caller.client_id,
        request_id=request_id,
        **fields,
    )


# --- the endpoint ---------------------------------------------------------------------------


class Endpoint:
    """One handler function's endpoint: its route from the table, a Powertools resolver with
    the error mapping installed, and its one route function."""

    def __init__(self, function: str, *, clock: Callable[[], float] = time.time) -> None:
        self.definition = route_of(function)
        """The route table's entry for this function: method, path, scope, schemes."""
        self.app = APIGatewayRestResolver()
        self._clock = clock
        # The leeway the authorizer allows on `exp`, read once at cold start.
        self._skew = env_int(
            os.environ, "CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW_SECONDS, minimum=0
        )
        _install_error_handlers(self.app)

    def route(self, function: RouteFunction) -> RouteFunction:
        """Register `function(request, **path_parameters)` for this endpoint's method and path,
        as the route table has them (a Powertools rule: `{workflowId}` becomes `<workflowId>`)."""
        app, definition = self.app, self.definition

        def call(**path_parameters: str) -> Any:
            request = ApiRequest(
                app.current_event, definition, clock=self._clock, clock_skew_seconds=self._skew
            )
            return function(request, **path_parameters)

        app.route(definition.resolver_path, definition.method)(call)
        return function

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> Any:
        """Resolve an API Gateway event and count the answer by class (every invocation emits
        at least one metric, so Powertools never flushes an empty set)."""
        result: dict[str, Any] = self.app.resolve(event, context)
        status = int(result.get("statusCode", 500))
        outcome = "ResponseOk" if status < 400 else "ResponseClientError"
        if status >= 500:
            outcome = "ResponseServerError"
        metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
        return result


def _install_error_handlers(app: APIGatewayRestResolver) -> None:
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
            detail=bounded(str(error)),
            cause=bounded(repr(error.__cause__)) if error.__cause__ else None,
        )
        metrics.add_metric(name="RequestRefused", unit=MetricUnit.Count, value=1)
        return error_response(error)

    @app.not_found
    def _no_route(_: Exception) -> Response[dict[str, str]]:
        # This function was reached for a path it does not serve: the template wired it wrong.
        logger.error("no route in this function", path=bounded(app.current_event.path))
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
