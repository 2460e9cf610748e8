"""The route table: the one place that says which routes exist, which authorizer guards them,
which handler serves them and who may call them (docs/architecture.md, "Routes").

The authorizer builds its policies from this table, each handler function takes its method and
path from it, the template test compares `template.yaml` with it, and the local gateway serves
it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shared.scopes import ADMIN, READ, TRIGGER


class Scheme(StrEnum):
    """The three kinds of credential the authorizer accepts."""

    JWT = "jwt"
    OAUTH = "oauth"
    API_KEY = "api_key"


class AuthorizerName(StrEnum):
    """The two authorizers declared in the template, both backed by one function, and the
    marker of a route without one (`NONE`, SAM's own spelling for `Auth.Authorizer`)."""

    BEARER = "BearerAuthorizer"
    API_KEY = "ApiKeyAuthorizer"
    NONE = "NONE"
    """No authorizer: API Gateway calls the function directly, which authenticates the caller
    itself (the token service). Such a route never appears in an authorizer's policy."""


#: The authorizers the template declares (every `AuthorizerName` except the `NONE` marker).
AUTHORIZERS: tuple[AuthorizerName, ...] = (AuthorizerName.BEARER, AuthorizerName.API_KEY)


#: The header each authorizer reads its credential from (its identity source).
IDENTITY_HEADER: dict[AuthorizerName, str] = {
    AuthorizerName.BEARER: "Authorization",
    AuthorizerName.API_KEY: "X-Api-Key",
}

#: The schemes whose credentials each authorizer reads (its identity source decides).
AUTHORIZER_SCHEMES: dict[AuthorizerName, frozenset[Scheme]] = {
    AuthorizerName.BEARER: frozenset({Scheme.JWT, Scheme.OAUTH}),
    AuthorizerName.API_KEY: frozenset({Scheme.API_KEY}),
}

_PARAM = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")
WORKFLOW_ID_PARAM = "workflowId"


@dataclass(frozen=True, slots=True)
class Route:
    """One API route and the rule that guards it."""

    method: str
    path: str
    authorizer: AuthorizerName
    """The authorizer guarding the route, or `AuthorizerName.NONE`."""
    function: str
    """Folder under `functions/` whose `app.lambda_handler` serves the route."""
    scope: str | None = None
    """Scope required (`None`: any valid credential of an allowed scheme)."""
    schemes: frozenset[Scheme] | None = None
    """Schemes allowed to call the route (`None`: every scheme of its authorizer)."""

    @property
    def allowed_schemes(self) -> frozenset[Scheme]:
        """The schemes that may call this route: its own restriction, within its authorizer's."""
        own = AUTHORIZER_SCHEMES.get(self.authorizer, frozenset())
        return own if self.schemes is None else own & self.schemes

    @property
    def guarded(self) -> bool:
        """Whether an authorizer guards the route (False for the token service's routes)."""
        return self.authorizer is not AuthorizerName.NONE

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @property
    def resolver_path(self) -> str:
        """The path as a Powertools resolver rule: `{workflowId}` written `<workflowId>`."""
        return _PARAM.sub(r"<\1>", self.path)

    @property
    def arn_path(self) -> str:
        """The path as it appears in an execute-api ARN: no leading slash, parameters as `*`."""
        return _PARAM.sub("*", self.path).lstrip("/")

    def arn_path_for(self, workflow_id: str) -> str:
        """The ARN path with `{workflowId}` set to one workflow and other parameters as `*`."""
        path = self.path.replace("{" + WORKFLOW_ID_PARAM + "}", workflow_id)
        return _PARAM.sub("*", path).lstrip("/")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters if `method path` (a concrete request path) is this route, else None."""
        if method != self.method:
            return None
        found = _compiled(self.path).fullmatch(path)
        return found.groupdict() if found else None


def _compiled(path: str) -> re.Pattern[str]:
    cached = _PATTERNS.get(path)
    if cached is None:
        pattern = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if _PARAM.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[A-Za-z][A-Za-z0-9]*\})", path)
            if part
        )
        cached = _PATTERNS[path] = re.compile(pattern)
    return cached


_PATTERNS: dict[str, re.Pattern[str]] = {}

_BEARER = AuthorizerName.BEARER
_NONE = AuthorizerName.NONE
_CLIENTS = "/api/admin/clients"
_RUNS = "/api/workflows/{workflowId}/runs"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/automate", _BEARER, "get_automate", schemes=frozenset({Scheme.JWT})),
    Route(
        "GET", "/api/secure-automate", _BEARER, "get_secure_automate",
        schemes=frozenset({Scheme.OAUTH}),
    ),
    Route("POST", "/api/trigger", _BEARER, "trigger_workflow", scope=TRIGGER),
    Route(
        "GET", "/api/internal", AuthorizerName.API_KEY, "get_internal",
        schemes=frozenset({Scheme.API_KEY}),
    ),
    Route("POST", _RUNS, _BEARER, "start_run", scope=TRIGGER),
    Route("GET", _RUNS, _BEARER, "list_runs", scope=READ),
    Route("GET", _RUNS + "/{runId}", _BEARER, "get_run", scope=READ),
    Route("POST", _RUNS + "/{runId}/cancel", _BEARER, "cancel_run", scope=ADMIN),
    Route("POST", "/api/admin/api-keys", _BEARER, "create_api_key", scope=ADMIN),
    Route("POST", "/api/admin/api-keys/{keyId}/rotate", _BEARER, "rotate_api_key", scope=ADMIN),
    Route("DELETE", "/api/admin/api-keys/{keyId}", _BEARER, "revoke_api_key", scope=ADMIN),
    Route("POST", "/api/admin/revocations", _BEARER, "create_revocation", scope=ADMIN),
    Route("GET", "/api/admin/revocations", _BEARER, "list_revocations", scope=ADMIN),
    # The token service (docs/token-service.md): no authorizer, the function authenticates
    # the client itself (RFC 6749 section 2.3).
    Route("POST", "/oauth/token", _NONE, "issue_token"),
    Route("GET", "/.well-known/oauth-authorization-server", _NONE, "get_oauth_metadata"),
    Route("POST", _CLIENTS, _BEARER, "create_client", scope=ADMIN),
    Route("GET", _CLIENTS, _BEARER, "list_clients", scope=ADMIN),
    Route("POST", _CLIENTS + "/{clientId}/rotate", _BEARER, "rotate_client", scope=ADMIN),
    Route("DELETE", _CLIENTS + "/{clientId}", _BEARER, "revoke_client", scope=ADMIN),
)  # fmt: skip


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route an authorizer guards serving a concrete request path, with its path
    parameters.

    Routes without an authorizer are never found here: API Gateway never asks an authorizer
    about them, so an authorizer event naming one is forged or misrouted (`find_any_route`
    finds them too).
    """
    found = find_any_route(method, path)
    return found if found is not None and found[0].guarded else None


def find_any_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving a concrete request path, guarded or not, with its path parameters."""
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


def route_of(function: str) -> Route:
    """The route served by `functions/<function>/app.py` (one route per function)."""
    for route in ROUTES:
        if route.function == function:
            return route
    raise LookupError(f"no route is served by function {function!r}")


def routes_of(authorizer: AuthorizerName) -> tuple[Route, ...]:
    """Every route guarded by one authorizer (API Gateway caches its policies per authorizer).

    `routes_of(AuthorizerName.NONE)` is the routes without an authorizer; no policy is ever
    built from it (the authorizer only builds policies for `AUTHORIZERS`)."""
    return tuple(route for route in ROUTES if route.authorizer is authorizer)
