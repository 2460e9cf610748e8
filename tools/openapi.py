"""`python -m tools.openapi`: write `docs/openapi.json` (OpenAPI 3.1), the Postman collection
and environment under `docs/postman/`, and the reference tables of `docs/api.md`, all from the
route table (`shared.routes.ROUTES`), the handlers' request and response shapes below, and the
error classes each handler raises (`shared.api_errors` and each capability's `errors.py`).

`python -m tools.openapi --check` exits 1 when a committed file differs from what this
generates (the test suite runs the same comparison). Nothing here is deployed: the documents
describe the API, the functions never read them.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import api_errors as common
from shared.api_keys import errors as key_errors
from shared.clients import errors as client_errors
from shared.http_api import MAX_BODY_BYTES, MAX_PAGE_SIZE, status_of
from shared.revocations.requests import InvalidRevocationError
from shared.routes import ROUTES, AuthorizerName, Route, Scheme
from shared.runs import errors as run_errors
from shared.scopes import ADMIN, KNOWN_SCOPES, READ, TRIGGER

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = ROOT / "docs" / "openapi.json"
VERSION = "0.1.0"
TOKEN_PATH = "/oauth/token"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


STRING: Schema = {"type": "string"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
UNIX_SECONDS: Schema = {"type": "integer", "description": "Unix time, seconds."}
SCOPE_LIST: Schema = {"type": "array", "items": {"type": "string"}}

# --- the shapes -------------------------------------------------------------------------------

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "description": "Every error of the API (functions and API Gateway alike): a stable `error` "
        "code and a fixed, generic `message`. Details go to the logs only.",
        "required": ["error", "message"],
        "properties": {"error": STRING, "message": STRING},
    },
    "OAuthError": {
        "type": "object",
        "description": "An error of the token endpoint (RFC 6749 section 5.2).",
        "required": ["error", "error_description"],
        "properties": {
            "error": {
                "type": "string",
                "enum": ["invalid_request", "invalid_client", "unsupported_grant_type",
                         "invalid_scope", "invalid_dpop_proof"],
            },
            "error_description": STRING,
        },
    },
    "ProxyError": {
        "type": "object",
        "description": "API Gateway's own answer when a function failed (502).",
        "properties": {"message": STRING, "error": STRING},
    },
    "Echo": {
        "type": "object",
        "required": ["message", "user"],
        "properties": {
            "message": STRING,
            "user": {
                "type": "object",
                "description": "The caller as the authorizer described it.",
                "required": ["principal", "scheme", "scopes"],
                "properties": {
                    "principal": STRING,
                    "scheme": {"type": "string", "enum": [s.value for s in Scheme]},
                    "scopes": SCOPE_LIST,
                },
            },
        },
    },
    "InternalAnswer": {
        "type": "object",
        "required": ["message", "principal"],
        "properties": {"message": STRING, "principal": STRING},
    },
    "TriggerRequest": {
        "type": "object",
        "required": ["workflowId"],
        "additionalProperties": False,
        "properties": {
            "workflowId": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            "input": {"type": "object", "description": "The run's input (at most 256 KiB)."},
        },
    },
    "StartRunRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "input": {"type": "object", "description": "The run's input (at most 256 KiB)."},
        },
    },
    "StartedRun": {
        "type": "object",
        "required": ["workflowId", "runId", "status", "startedAt"],
        "properties": {
            "workflowId": STRING, "runId": STRING, "status": STRING, "startedAt": TIMESTAMP,
        },
    },
    "RunSummary": {
        "type": "object",
        "required": ["runId", "status", "startedAt", "stoppedAt"],
        "properties": {
            "runId": STRING,
            "status": STRING,
            "startedAt": nullable(TIMESTAMP),
            "stoppedAt": nullable(TIMESTAMP),
        },
    },
    "RunPage": {
        "type": "object",
        "required": ["workflowId", "runs", "nextToken"],
        "properties": {
            "workflowId": STRING,
            "runs": {"type": "array", "items": ref("RunSummary")},
            "nextToken": nullable(STRING),
        },
    },
    "RunDetail": {
        "type": "object",
        "required": ["workflowId", "runId", "status", "startedAt", "stoppedAt", "input",
                     "output", "startedBy", "requestId"],
        "properties": {
            "workflowId": STRING,
            "runId": STRING,
            "status": {
                "type": "string",
                "enum": ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED",
                         "PENDING_REDRIVE"],
            },
            "startedAt": nullable(TIMESTAMP),
            "stoppedAt": nullable(TIMESTAMP),
            "input": {"description": "The input the run was started with."},
            "output": {"description": "The run's output (null until it succeeds)."},
            "startedBy": nullable({"type": "object"}),
            "requestId": nullable(STRING),
            "error": STRING,
            "cause": STRING,
        },
    },
    "CancelledRun": {
        "type": "object",
        "required": ["workflowId", "runId", "status", "stoppedAt"],
        "properties": {
            "workflowId": STRING, "runId": STRING, "status": STRING,
            "stoppedAt": nullable(TIMESTAMP),
        },
    },
    "CreateApiKeyRequest": {
        "type": "object",
        "required": ["principal", "scopes"],
        "additionalProperties": False,
        "properties": {
            "principal": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"},
            "scopes": SCOPE_LIST,
            "rotateAfterDays": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 90},
        },
    },
    "IssuedApiKey": {
        "type": "object",
        "required": ["keyId", "apiKey", "principal", "scopes", "rotateAfterDays"],
        "properties": {
            "keyId": STRING,
            "apiKey": {"type": "string", "description": "Shown in this answer only."},
            "principal": STRING,
            "scopes": SCOPE_LIST,
            "rotateAfterDays": {"type": "integer"},
        },
    },
    "ApiKeyRotationStarted": {
        "type": "object",
        "required": ["keyId", "versionId"],
        "properties": {"keyId": STRING, "versionId": STRING},
    },
    "RevokedApiKey": {
        "type": "object",
        "required": ["keyId", "revoked", "deletionDate"],
        "properties": {
            "keyId": STRING, "revoked": {"type": "boolean"}, "deletionDate": nullable(TIMESTAMP),
        },
    },
    "RevocationRequest": {
        "description": "One token (`jti`, until `expiresAt`, the token's `exp`) or every token "
        "of one scheme's subject issued until now (`sub` and `scheme`).",
        "oneOf": [
            {
                "type": "object",
                "required": ["jti"],
                "additionalProperties": False,
                "properties": {
                    "jti": {"type": "string", "pattern": "^[!-~]{1,256}$"},
                    "expiresAt": UNIX_SECONDS,
                },
            },
            {
                "type": "object",
                "required": ["sub", "scheme"],
                "additionalProperties": False,
                "properties": {
                    "sub": {"type": "string", "pattern": "^[!-~]{1,256}$"},
                    "scheme": {"type": "string", "enum": ["jwt", "oauth"]},
                },
            },
        ],
    },
    "Revocation": {
        "type": "object",
        "required": ["revokedAt", "expiresAt", "revokedBy"],
        "properties": {
            "jti": STRING,
            "sub": STRING,
            "revokedAt": UNIX_SECONDS,
            "expiresAt": UNIX_SECONDS,
            "revokedBy": STRING,
            "scheme": STRING,
            "iss": STRING,
            "issuedBefore": UNIX_SECONDS,
        },
    },
    "RevocationPage": {
        "type": "object",
        "required": ["revocations", "nextToken"],
        "properties": {
            "revocations": {"type": "array", "items": ref("Revocation")},
            "nextToken": nullable(STRING),
        },
    },
    "CreateClientRequest": {
        "type": "object",
        "required": ["clientId", "scopes"],
        "additionalProperties": False,
        "properties": {
            "clientId": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{2,63}$"},
            "scopes": SCOPE_LIST,
            "jwks": {
                "type": "object",
                "description": "Public keys for private_key_jwt: {\"keys\": [...]}.",
                "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
            },
            "noSecret": {"type": "boolean", "default": False},
            "tokenLifetimeSeconds": {"type": "integer", "minimum": 60},
            "rotateAfterDays": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
    },
    "RegisteredClient": {
        "type": "object",
        "required": ["clientId", "allowedScopes", "tokenEndpoint"],
        "properties": {
            "clientId": STRING,
            "clientSecret": {"type": "string", "description": "Shown in this answer only."},
            "allowedScopes": SCOPE_LIST,
            "tokenEndpoint": nullable(STRING),
        },
    },
    "ClientSummary": {
        "type": "object",
        "required": ["clientId", "allowedScopes", "hasSecret", "keyIds",
                     "tokenLifetimeSeconds", "revoked", "createdAt"],
        "properties": {
            "clientId": STRING,
            "allowedScopes": SCOPE_LIST,
            "hasSecret": {"type": "boolean"},
            "keyIds": SCOPE_LIST,
            "tokenLifetimeSeconds": nullable({"type": "integer"}),
            "revoked": {"type": "boolean"},
            "createdAt": nullable(STRING),
        },
    },
    "ClientPage": {
        "type": "object",
        "required": ["clients"],
        "properties": {
            "clients": {"type": "array", "items": ref("ClientSummary")},
            "nextToken": STRING,
        },
    },
    "ClientRotationStarted": {
        "type": "object",
        "required": ["clientId", "versionId"],
        "properties": {"clientId": STRING, "versionId": STRING},
    },
    "RevokedClient": {
        "type": "object",
        "required": ["clientId", "revoked", "deletionDate"],
        "properties": {
            "clientId": STRING, "revoked": {"type": "boolean"}, "deletionDate": nullable(STRING),
        },
    },
    "TokenRequest": {
        "type": "object",
        "description": "RFC 6749 section 4.4. Authenticate with exactly one of: HTTP Basic "
        "(client_secret_basic), `client_id` + `client_secret` (client_secret_post), or "
        "`client_assertion_type` + `client_assertion` (private_key_jwt, RFC 7523).",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "description": "Space-separated; absent: every scope "
                      "the client is allowed."},
            "client_id": STRING,
            "client_secret": STRING,
            "client_assertion_type": {
                "type": "string",
                "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
            },
            "client_assertion": STRING,
        },
    },
    "TokenResponse": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {
            "access_token": STRING,
            "token_type": {"type": "string", "enum": ["Bearer", "DPoP"]},
            "expires_in": {"type": "integer"},
            "scope": STRING,
        },
    },
    "AuthorizationServerMetadata": {
        "type": "object",
        "description": "RFC 8414.",
        "required": ["issuer", "token_endpoint", "grant_types_supported",
                     "token_endpoint_auth_methods_supported", "scopes_supported"],
        "properties": {
            "issuer": nullable(STRING),
            "token_endpoint": STRING,
            "grant_types_supported": SCOPE_LIST,
            "token_endpoint_auth_methods_supported": SCOPE_LIST,
            "token_endpoint_auth_signing_alg_values_supported": SCOPE_LIST,
            "scopes_supported": SCOPE_LIST,
            "response_types_supported": SCOPE_LIST,
            "dpop_signing_alg_values_supported": SCOPE_LIST,
        },
    },
}  # fmt: skip

# --- what each handler takes, answers and refuses -----------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What the route table does not say about a route: its shapes and its errors."""

    summary: str
    success: int
    response: str
    request: str | None = None
    errors: tuple[type[common.ApiError], ...] = ()
    paginated: bool = False
    idempotency: bool = False
    location: bool = False
    no_store: bool = False
    description: str = ""


_BODY = (common.MalformedBodyError, common.PayloadTooLargeError, common.UnsupportedMediaTypeError)
_ENGINE = (common.DependencyBusyError, common.DependencyFailedError)
_START = (
    *_BODY, run_errors.InvalidIdempotencyKeyError, run_errors.UnknownWorkflowError,
    run_errors.IdempotencyConflictError, run_errors.InputTooLargeError, *_ENGINE,
)  # fmt: skip
_PAGE = (common.InvalidLimitError, common.InvalidNextTokenError)
_KEYS = (key_errors.KeyStoreBusyError, key_errors.KeyStoreFailedError)
_CLIENTS = (client_errors.ClientStoreBusyError, client_errors.ClientStoreFailedError)

OPERATIONS: dict[str, Operation] = {
    "get_automate": Operation(
        "Echo an internal service's identity", 200, "Echo",
        description="For tokens of the token service (scheme `jwt`), any scope.",
    ),
    "get_secure_automate": Operation(
        "Echo an OAuth caller's identity", 200, "Echo",
        description="For access tokens of the configured OAuth provider (scheme `oauth`), "
        "any scope.",
    ),
    "trigger_workflow": Operation(
        "Start a run of the workflow named in the body", 202, "StartedRun", "TriggerRequest",
        _START, idempotency=True, location=True,
        description="The function answers 403 when the body's `workflowId` is not covered by "
        "the caller's scopes (`workflow:trigger` or `workflow:trigger:<workflowId>`).",
    ),
    "get_internal": Operation(
        "The endpoint for internal callers with an API key", 200, "InternalAnswer",
    ),
    "start_run": Operation(
        "Start a run", 202, "StartedRun", "StartRunRequest", _START, idempotency=True,
        location=True,
        description="The same `Idempotency-Key` from the same caller with the same body "
        "returns the same run (`Idempotent-Replayed: true`); with another body, 409.",
    ),
    "list_runs": Operation(
        "List runs, newest first", 200, "RunPage", None,
        (*_PAGE, run_errors.UnknownWorkflowError, *_ENGINE), paginated=True,
    ),
    "get_run": Operation(
        "One run's status, input and output", 200, "RunDetail", None,
        (run_errors.InvalidRunIdError, run_errors.UnknownWorkflowError,
         run_errors.RunNotFoundError, *_ENGINE),
    ),
    "cancel_run": Operation(
        "Stop a running run", 200, "CancelledRun", None,
        (run_errors.InvalidRunIdError, run_errors.UnknownWorkflowError,
         run_errors.RunNotFoundError, run_errors.RunNotActiveError, *_ENGINE),
    ),
    "create_api_key": Operation(
        "Issue an API key (returned once)", 201, "IssuedApiKey", "CreateApiKeyRequest",
        (*_BODY, key_errors.InvalidPrincipalError, key_errors.InvalidScopesError,
         key_errors.InvalidRotationPeriodError, *_KEYS),
        location=True, no_store=True,
    ),
    "rotate_api_key": Operation(
        "Rotate an API key now", 202, "ApiKeyRotationStarted", None,
        (key_errors.MalformedKeyIdError, key_errors.UnknownKeyError,
         key_errors.RotationInProgressError, *_KEYS),
        description="The previous key keeps working for `API_KEY_GRACE_SECONDS`.",
    ),
    "revoke_api_key": Operation(
        "Revoke an API key", 200, "RevokedApiKey", None,
        (key_errors.MalformedKeyIdError, key_errors.UnknownKeyError, *_KEYS),
    ),
    "create_revocation": Operation(
        "Revoke a token (jti) or a subject's tokens", 201, "Revocation", "RevocationRequest",
        (*_BODY, InvalidRevocationError, *_ENGINE),
    ),
    "list_revocations": Operation(
        "List active revocations", 200, "RevocationPage", None, (*_PAGE, *_ENGINE),
        paginated=True,
    ),
    "issue_token": Operation(
        "Issue a short-lived service token (client credentials)", 200, "TokenResponse",
        "TokenRequest",
        (client_errors.MalformedTokenRequestError, client_errors.UnsupportedGrantTypeError,
         client_errors.InvalidScopeError, client_errors.InvalidClientError,
         client_errors.InvalidDpopProofError),
        no_store=True,
        description="RFC 6749 section 4.4. No authorizer: the function authenticates the "
        "client (docs/token-service.md). Failed client authentications count toward the "
        "source IP's lockout. With DPoP on, a `DPoP` proof header binds the token to the "
        "proof's key (RFC 9449 section 5; `token_type: DPoP`).",
    ),
    "get_oauth_metadata": Operation(
        "The token service's authorization server metadata", 200,
        "AuthorizationServerMetadata", description="RFC 8414. Public, cacheable for an hour.",
    ),
    "create_client": Operation(
        "Register a client (its secret returned once)", 201, "RegisteredClient",
        "CreateClientRequest",
        (*_BODY, client_errors.MalformedClientIdError, client_errors.InvalidClientScopesError,
         client_errors.InvalidJwksError, client_errors.InvalidLifetimeError,
         client_errors.NoCredentialError, client_errors.ClientExistsError, *_CLIENTS),
        location=True, no_store=True,
    ),
    "list_clients": Operation(
        "List clients (never their secrets)", 200, "ClientPage", None,
        (*_PAGE, *_CLIENTS), paginated=True,
    ),
    "rotate_client": Operation(
        "Rotate a client's secret now", 202, "ClientRotationStarted", None,
        (client_errors.MalformedClientIdError, client_errors.UnknownClientError,
         client_errors.NoCredentialError, client_errors.ClientRotationInProgressError,
         *_CLIENTS),
        description="The previous secret keeps working for `CLIENT_SECRET_GRACE_SECONDS`.",
    ),
    "revoke_client": Operation(
        "Revoke a client", 200, "RevokedClient", None,
        (client_errors.MalformedClientIdError, client_errors.UnknownClientError, *_CLIENTS),
        description="Tokens already issued stay valid until they expire; revoke the subject "
        "through `POST /api/admin/revocations` to cut that short.",
    ),
}  # fmt: skip

PATH_PARAMETERS: dict[str, Schema] = {
    "workflowId": {"type": "string", "description": "A workflow id configured in `WORKFLOWS`."},
    "runId": {"type": "string", "description": "The `runId` a start answered with."},
    "keyId": {"type": "string", "description": "16 lowercase letters or digits."},
    "clientId": {"type": "string", "description": "A registered client id."},
}


@dataclass(frozen=True)
class GatewayError:
    """An answer API Gateway gives itself (the template's Gateway Responses)."""

    status: int
    code: str
    meaning: str


#: What API Gateway answers before (or instead of) a function, on guarded routes.
GATEWAY_ERRORS: tuple[GatewayError, ...] = (
    GatewayError(401, "unauthorized", "No credential, or a missing, malformed, expired, "
                 "revoked or unknown one (`WWW-Authenticate: Bearer`)."),
    GatewayError(403, "forbidden", "The credential is valid but its scopes or scheme do not "
                 "cover this route (the authorizer's policy, or the function's own check)."),
    GatewayError(500, "authorizer_failure", "The authorizer could not decide (Secrets "
                 "Manager, the provider's key set or the security table unreachable): it "
                 "fails closed."),
)  # fmt: skip
#: On every route.
ANY_ROUTE_ERRORS: tuple[GatewayError, ...] = (
    GatewayError(404, "not_found", "No such route (API Gateway), or the function's own "
                 "not-found codes below."),
    GatewayError(429, "throttled", "API Gateway's stage throttling."),
    GatewayError(500, "internal_error", "A bug or a misconfiguration; the log says which."),
)  # fmt: skip


def error_entries(route: Route, operation: Operation) -> list[tuple[int, str, str]]:
    """(status, code, meaning) of every error answer of one route, sorted by status."""
    entries: list[tuple[int, str, str]] = []
    if route.guarded:
        entries += [(e.status, e.code, e.meaning) for e in GATEWAY_ERRORS]
    entries += [(e.status, e.code, e.meaning) for e in ANY_ROUTE_ERRORS]
    for error in operation.errors:
        meaning = (error.__doc__ or "").strip().splitlines()[0]
        entries.append((status_of(error("documented")), error.code, meaning))
    seen: set[tuple[int, str]] = set()
    unique = []
    for status, code, meaning in entries:
        if (status, code) not in seen:
            seen.add((status, code))
            unique.append((status, code, meaning))
    return sorted(unique, key=lambda entry: entry[0])


# --- the document ---------------------------------------------------------------------------------


def security_of(route: Route) -> list[dict[str, list[str]]]:
    """The OpenAPI security requirement: one alternative per way of presenting a credential."""
    if not route.guarded:
        return []
    if route.authorizer is AuthorizerName.API_KEY:
        return [{"apiKey": []}]
    schemes = route.allowed_schemes
    scopes = [route.scope] if route.scope else []
    alternatives: list[dict[str, list[str]]] = []
    if Scheme.JWT in schemes:
        alternatives.append({"oauth2": scopes})
    alternatives.append({"bearer": []})
    alternatives.append({"dpop": []})
    return alternatives


def operation_id(route: Route) -> str:
    head, *rest = route.function.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _content(schema: Schema, media_type: str = "application/json") -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def _error_responses(route: Route, operation: Operation) -> dict[str, Any]:
    by_status: dict[int, list[tuple[str, str]]] = {}
    for status, code, meaning in error_entries(route, operation):
        by_status.setdefault(status, []).append((code, meaning))
    # API Gateway's own 502 when a function fails: on every route.
    by_status.setdefault(502, []).append(
        ("(none)", 'API Gateway\'s answer when the function itself failed (`{"message"}`).')
    )
    responses: dict[str, Any] = {}
    for status, codes in sorted(by_status.items()):
        lines = "; ".join(f"`{code}`: {meaning}" for code, meaning in codes)
        oauth = route.function == "issue_token" and status in (400, 401)
        schema = ref("OAuthError") if oauth else ref("Error")
        if status == 502:
            schema = {"anyOf": [ref("Error"), ref("ProxyError")]}
        answer: dict[str, Any] = {"description": lines, "content": _content(schema)}
        if status == 401 and route.guarded:
            answer["headers"] = {"WWW-Authenticate": {"schema": STRING}}
        if status == 503:
            answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[str(status)] = answer
    return responses


def _operation(route: Route) -> dict[str, Any]:
    operation = OPERATIONS[route.function]
    description = [operation.description] if operation.description else []
    if route.scope:
        implied = "" if route.scope == ADMIN else f" (or `{ADMIN}`, which implies it)"
        narrowed = (
            f"; narrowed `{route.scope}:<workflowId>` covers one workflow"
            if route.scope in (READ, TRIGGER) and "{workflowId}" in route.path
            else ""
        )
        description.append(f"Requires scope `{route.scope}`{implied}{narrowed}.")
    schemes = sorted(s.value for s in route.allowed_schemes) or ["none"]
    description.append("Credential schemes: " + ", ".join(f"`{s}`" for s in schemes) + ".")
    out: dict[str, Any] = {
        "operationId": operation_id(route),
        "summary": operation.summary,
        "description": " ".join(description),
        "tags": [_tag(route)],
        "security": security_of(route),
        "x-scope": route.scope,
        "x-schemes": schemes,
    }
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        for name in route.params
    ]
    if operation.paginated:
        parameters += [
            {"name": "limit", "in": "query", "required": False,
             "description": f"Page size, 1 to {MAX_PAGE_SIZE}.",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}},
            {"name": "nextToken", "in": "query", "required": False,
             "description": "The previous page's `nextToken` (opaque; absent or null on the "
             "last page).", "schema": STRING},
        ]  # fmt: skip
    if operation.idempotency:
        parameters.append(
            {"name": "Idempotency-Key", "in": "header", "required": False,
             "description": "1 to 255 visible ASCII characters: a retry with the same key and "
             "body returns the same run.", "schema": STRING}
        )  # fmt: skip
    if route.function == "issue_token":
        parameters.append(
            {"name": "DPoP", "in": "header", "required": False,
             "description": "A DPoP proof (RFC 9449 section 4) for `POST` to this endpoint: "
             "binds the issued token to its key. At most one.", "schema": STRING}
        )  # fmt: skip
    if parameters:
        out["parameters"] = parameters
    if operation.request:
        form = route.function == "issue_token"
        media = "application/x-www-form-urlencoded" if form else "application/json"
        body: dict[str, Any] = {
            "required": operation.request
            in (
                "TriggerRequest",
                "CreateApiKeyRequest",
                "CreateClientRequest",
                "RevocationRequest",
                "TokenRequest",
            ),
            "content": _content(ref(operation.request), media),
        }
        if not form:
            body["description"] = f"At most {MAX_BODY_BYTES // 1024} KiB."
        out["requestBody"] = body
    success: dict[str, Any] = {
        "description": operation.summary,
        "content": _content(ref(operation.response)),
    }
    headers: dict[str, Any] = {}
    if operation.location:
        headers["Location"] = {
            "description": "The new resource's path (stage prefix included).",
            "required": True,
            "schema": STRING,
        }
    if operation.idempotency:
        headers["Idempotent-Replayed"] = {
            "description": "`true` when an earlier run was returned.",
            "schema": STRING,
        }
    if operation.no_store:
        headers["Cache-Control"] = {
            "required": True,
            "schema": {"type": "string", "enum": ["no-store"]},
        }
    if headers:
        success["headers"] = headers
    out["responses"] = {str(operation.success): success, **_error_responses(route, operation)}
    return out


def _tag(route: Route) -> str:
    if not route.guarded:
        return "token service"
    if route.path.startswith("/api/admin/clients"):
        return "clients"
    if route.path.startswith("/api/admin/api-keys"):
        return "api keys"
    if route.path.startswith("/api/admin/revocations"):
        return "revocations"
    if "/runs" in route.path or route.function == "trigger_workflow":
        return "runs"
    return "echo"


def build(server: str = "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}") -> Schema:
    """The OpenAPI 3.1 document of the API."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Workflow automation API",
            "version": VERSION,
            "description": "Generated by `python -m tools.openapi` from the route table "
            "(`shared/routes.py`) and the handlers' shapes; do not edit. The reference in "
            "prose is docs/api.md.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [
            {
                "url": server,
                "description": "The deployed stage (output `ApiUrl`).",
                "variables": {
                    "apiId": {"default": "abcdef1234"},
                    "region": {"default": "us-east-1"},
                    "stage": {"default": "v1"},
                },
            },
            {"url": "http://127.0.0.1:3000", "description": "`make run`"},
        ],
        "tags": [
            {"name": name}
            for name in ("echo", "runs", "api keys", "revocations", "clients", "token service")
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A token of the token service (scheme `jwt`) or an access "
                    "token of the configured OAuth provider (scheme `oauth`).",
                },
                "dpop": {
                    "type": "http",
                    "scheme": "DPoP",
                    "description": "A DPoP-bound token (RFC 9449) as `Authorization: DPoP "
                    "<token>`, with a fresh proof of its key in the `DPoP` header, when "
                    "`DPOP_MODE` is `optional` or `required`.",
                },
                "oauth2": {
                    "type": "oauth2",
                    "description": "The token service: client credentials (RFC 6749 section "
                    "4.4), client_secret_basic, client_secret_post or private_key_jwt.",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": TOKEN_PATH,
                            "scopes": {
                                READ: "Read runs (narrowable: workflow:read:<workflowId>).",
                                TRIGGER: "Start runs (narrowable: workflow:trigger:<workflowId>).",
                                ADMIN: "Administer keys, clients, revocations and cancel runs; "
                                "implies the other two.",
                            },
                        }
                    },
                },
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Api-Key",
                    "description": "An API key `wfk_<keyId>_<secret>` for internal callers.",
                },
            },
        },
    }


def render(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generated_files() -> dict[Path, str]:
    """Every generated document, by path: the OpenAPI document, the Postman files, the
    reference tables of docs/api.md."""
    from tools import api_reference, postman  # noqa: PLC0415

    document = build()
    return {
        OPENAPI_FILE: render(document),
        postman.COLLECTION_FILE: render(postman.collection()),
        postman.ENVIRONMENT_FILE: render(postman.environment()),
        api_reference.API_FILE: api_reference.render(document),
    }


def stale_files() -> list[Path]:
    return [
        path
        for path, text in generated_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(
                f"{path.relative_to(ROOT)} is stale: run python -m tools.openapi", file=sys.stderr
            )
        return 1 if stale else 0
    for path, text in generated_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


__all__ = ["KNOWN_SCOPES", "build", "generated_files", "main", "stale_files"]

if __name__ == "__main__":
    sys.exit(main())
