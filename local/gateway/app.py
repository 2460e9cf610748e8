"""What API Gateway does between a client and the functions, for the API of `template.yaml`.

Order of work for a request (as in API Gateway REST with Lambda authorizers and proxy
integration): match the route (none: 403 Missing Authentication Token) → read the identity
source (missing or empty: 401, authorizer not called) → cached result for (authorizer, identity)
or invoke the authorizer (`Unauthorized`: 401; any other error or a malformed answer: 500) →
evaluate the policy against the method ARN (not allowed: 403) → invoke the function with the
proxy event → map its answer (malformed or raising: 502).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from local.gateway.cache import ResultCache
from local.gateway.events import (
    ApiIdentity,
    HttpRequest,
    HttpResponse,
    authorizer_context,
    authorizer_event,
    json_body,
    map_proxy_response,
    proxy_event,
)
from local.gateway.policy import (
    AuthorizerOutput,
    Decision,
    MalformedOutputError,
    evaluate,
    parse_output,
)
from local.template import ApiSpec, GatewayResponseSpec, RouteSpec

DEBUG_PREFIX = "/__local/"
#: Where the local run serves the API's OpenAPI document (docs/openapi.json).
OPENAPI_PATH = "/openapi.json"

#: Built-in Gateway Responses: status, message, `x-amzn-ErrorType`.
_BUILT_IN: dict[str, tuple[int, str | None, str]] = {
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (
        403,
        "User is not authorized to access this resource",
        "AccessDeniedException",
    ),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None, "AuthorizerConfigurationException"),
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
}
EXPLICIT_DENY_MESSAGE = "User is not authorized to access this resource with an explicit deny"


class Invocable(Protocol):
    """Anything that runs a Lambda event (a `LocalFunction`, or a fake in unit tests)."""

    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass(slots=True)
class Stats:
    """Counters the e2e tests and benchmarks read (GET /__local/stats)."""

    authorizer_invocations: dict[str, int] = field(default_factory=dict)
    cache_hits: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "authorizer_invocations": sum(self.authorizer_invocations.values()),
            "authorizer_invocations_by_authorizer": dict(self.authorizer_invocations),
            "cache_hits": sum(self.cache_hits.values()),
            "requests": self.requests,
        }


@dataclass(frozen=True, slots=True)
class _CompiledRoute:
    spec: RouteSpec
    pattern: re.Pattern[str]


def _compile(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            greedy = name.endswith("+")  # `{proxy+}` spans slashes
            regex += f"(?P<{name.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
        elif part:
            regex += re.escape(part)
    return re.compile(regex)


class Gateway:
    def __init__(
        self,
        api: ApiSpec,
        identity: ApiIdentity,
        functions: Mapping[str, Invocable],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.identity = identity
        self.functions = functions
        self.cache: ResultCache[AuthorizerOutput] = ResultCache(clock)
        self.stats = Stats()
        self._stats_lock = threading.Lock()
        self._routes = [_CompiledRoute(r, _compile(r.path)) for r in api.routes]
        self.openapi: bytes | None = None
        """The OpenAPI document served at `/openapi.json` (set by `python -m local.gateway`)."""

    # -- routing -------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for route in self._routes:
            if route.spec.method in (method, "ANY"):
                found = route.pattern.fullmatch(path)
                if found:
                    return route.spec, found.groupdict()
        return None

    # -- the request ---------------------------------------------------------------------------

    def strip_stage(self, path: str) -> str:
        """The route path of a path called with the stage prefix (`/v1/api/automate`), so that
        the `Location` headers the functions build (`requestContext.path` carries the stage,
        as on execute-api) can be followed; other paths as they are."""
        prefix = f"/{self.api.stage}"
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
        return path

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = self.strip_stage(request.path)
        if path != request.path:
            request = replace(request, path=path)
        if request.path.startswith(DEBUG_PREFIX):
            return self._debug(request)
        if request.path == OPENAPI_PATH and request.method in ("GET", "HEAD"):
            if self.openapi is None:
                return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request)
            headers = [("Content-Type", "application/json")]
            return HttpResponse(200, headers, self.openapi)
        with self._stats_lock:
            self.stats.requests += 1
        found = self.match(request.method, request.path)
        if found is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request)
        route, params = found
        authorizer: dict[str, Any] | None = None
        if route.authorizer is not None:
            outcome = self._authorize(request, route.authorizer, route, params)
            if isinstance(outcome, HttpResponse):
                return outcome
            authorizer = outcome
        event = proxy_event(
            request, self.identity, route.path, params, authorizer, self._is_binary(request)
        )
        try:
            result = self.functions[route.function].invoke(event)
            response = map_proxy_response(result)
        except Exception:  # includes MalformedProxyResponseError
            # API Gateway answers a failed or malformed Lambda proxy call with a fixed 502.
            return _with_request_id(
                HttpResponse(
                    502,
                    [
                        ("Content-Type", "application/json"),
                        ("x-amzn-ErrorType", "InternalServerErrorException"),
                    ],
                    json_body({"message": "Internal server error"}),
                ),
                request,
            )
        return _with_request_id(response, request)

    def _authorize(
        self, request: HttpRequest, authorizer: str, route: RouteSpec, params: dict[str, str]
    ) -> dict[str, Any] | HttpResponse:
        spec = self.api.authorizers[authorizer]
        identity: list[str] = []
        for header in spec.identity_headers:
            values = request.header_values(header)
            if not values or not all(v.strip() for v in values):
                # A missing, null or empty identity source: 401 without calling the authorizer.
                return self.gateway_response("UNAUTHORIZED", request)
            identity.append(",".join(values))
        key = tuple(identity)
        started = time.monotonic()
        output = self.cache.get(spec.name, key) if spec.ttl_seconds > 0 else None
        if output is not None:
            with self._stats_lock:
                self.stats.cache_hits[spec.name] = self.stats.cache_hits.get(spec.name, 0) + 1
        else:
            with self._stats_lock:
                count = self.stats.authorizer_invocations.get(spec.name, 0)
                self.stats.authorizer_invocations[spec.name] = count + 1
            event = authorizer_event(request, self.identity, route.path, params)
            try:
                raw = self.functions[spec.function].invoke(event)
            except Exception as error:
                if str(error) == "Unauthorized":
                    return self.gateway_response("UNAUTHORIZED", request)
                return self.gateway_response("AUTHORIZER_CONFIGURATION_ERROR", request)
            try:
                output = parse_output(raw)
            except MalformedOutputError:
                return self.gateway_response("AUTHORIZER_CONFIGURATION_ERROR", request)
            self.cache.put(spec.name, key, output, spec.ttl_seconds)
        decision = evaluate(
            output.statements, self.identity.method_arn(request.method, request.path)
        )
        if decision is Decision.EXPLICIT_DENY:
            return self.gateway_response("ACCESS_DENIED", request, EXPLICIT_DENY_MESSAGE)
        if decision is Decision.IMPLICIT_DENY:
            return self.gateway_response("ACCESS_DENIED", request)
        latency = int((time.monotonic() - started) * 1000)
        return authorizer_context(output.principal_id, output.context, latency)

    def _is_binary(self, request: HttpRequest) -> bool:
        content_type = (request.header_values("Content-Type") or [""])[-1].split(";")[0].strip()
        return any(
            _media_type_matches(pattern, content_type) for pattern in self.api.binary_media_types
        )

    # -- Gateway Responses ---------------------------------------------------------------------

    def gateway_response(
        self, kind: str, request: HttpRequest, message: str | None = None
    ) -> HttpResponse:
        """The template's Gateway Response for `kind`, else its DEFAULT_4XX/5XX, else AWS's."""
        status, default_message, error_type = _BUILT_IN[kind]
        if message is None:
            message = default_message
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        spec = self.api.gateway_responses.get(kind) or self.api.gateway_responses.get(fallback)
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)]
        if spec is None:
            body = _default_body(kind, message)
            return _with_request_id(HttpResponse(status, headers, body), request)
        return _with_request_id(
            _custom_response(spec, status, headers, kind, message, request.request_id), request
        )

    # -- debug endpoints (local only) ----------------------------------------------------------

    def _debug(self, request: HttpRequest) -> HttpResponse:
        name = request.path[len(DEBUG_PREFIX) :]
        if name == "stats" and request.method == "GET":
            with self._stats_lock:
                body = self.stats.as_json()
            return HttpResponse(200, [("Content-Type", "application/json")], json_body(body))
        if name == "cache/flush" and request.method == "POST":
            self.cache.clear()
            return HttpResponse(204, [], b"")
        return HttpResponse(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')


def _default_body(kind: str, message: str | None) -> bytes:
    if kind == "ACCESS_DENIED":
        # API Gateway's built-in 403 for authorizer policies really uses a capital "Message".
        return json_body({"Message": message})
    return json_body({"message": message})


def _custom_response(
    spec: GatewayResponseSpec,
    status: int,
    headers: list[tuple[str, str]],
    kind: str,
    message: str | None,
    request_id: str,
) -> HttpResponse:
    template = spec.templates.get("application/json")
    if template is None and spec.templates:
        template = next(iter(spec.templates.values()))
    if template is None:
        template = '{"message":$context.error.messageString}'
    substitutions = {
        "$context.error.messageString": json.dumps(message),
        "$context.error.message": message or "",
        "$context.error.responseType": kind,
        "$context.requestId": request_id,
    }
    body = template
    # Longest names first, so `messageString` is not read as `message` + "String".
    for name in sorted(substitutions, key=len, reverse=True):
        body = body.replace("${" + name[1:] + "}", substitutions[name])
        body = body.replace(name, substitutions[name])
    merged = [(k, v) for k, v in headers if k.lower() not in {h.lower() for h in spec.headers}]
    merged += list(spec.headers.items())
    return HttpResponse(spec.status or status, merged, body.encode("utf-8"))


def _with_request_id(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    headers = [*response.headers, ("x-amzn-RequestId", request.request_id)]
    return HttpResponse(response.status, headers, response.body)


def _media_type_matches(pattern: str, content_type: str) -> bool:
    if not content_type:
        return False
    if pattern in ("*/*", content_type):
        return True
    major, _, minor = pattern.partition("/")
    return minor == "*" and content_type.startswith(major + "/")


def new_request_id() -> str:
    return str(uuid.uuid4())
