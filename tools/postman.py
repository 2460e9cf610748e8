"""The Postman collection of every route and its environment for the local run, generated with
docs/openapi.json (`python -m tools.openapi`).

The collection gets its tokens from the token endpoint in its pre-request script (client
credentials of the `demo` and `admin` clients the local run registers, whose secrets are random
per run: pass them as environment values, see docs/api.md, "Postman"), and an OAuth access
token from the local OAuth provider for the `oauth`-only route. Requests run in the route
table's order, so that a run, an API key and a client are created before they are read,
rotated, cancelled or revoked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from shared.routes import ROUTES, AuthorizerName, Route, Scheme

ROOT = Path(__file__).resolve().parent.parent
COLLECTION_FILE = ROOT / "docs" / "postman" / "workflow-api.postman_collection.json"
ENVIRONMENT_FILE = ROOT / "docs" / "postman" / "local.postman_environment.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

#: Values the local run prints and writes to local/.run/credentials.json; the secrets differ
#: on every run, so the committed environment leaves them empty.
ENVIRONMENT: tuple[tuple[str, str, str], ...] = (
    ("baseUrl", "http://127.0.0.1:3000", "default"),
    ("demoClientId", "demo", "default"),
    ("demoClientSecret", "", "secret"),
    ("adminClientId", "admin", "default"),
    ("adminClientSecret", "", "secret"),
    ("apiKey", "", "secret"),
    ("oauthTokenUrl", "http://127.0.0.1:3001/token", "default"),
    ("oauthClientId", "", "default"),
    ("oauthClientSecret", "", "secret"),
    ("oauthScope", "workflow:read", "default"),
)

#: The collection's own variables: what one request creates and the next one uses.
VARIABLES: dict[str, str] = {
    "workflowId": "wait",
    "runId": "",
    "keyId": "",
    "clientId": "",
    "adminToken": "",
    "demoToken": "",
    "oauthToken": "",
}

#: One example body per route that takes one (the smallest valid request).
BODIES: dict[str, Any] = {
    "trigger_workflow": {"workflowId": "demo", "input": {"hello": "world"}},
    "start_run": {"input": {"hello": "world"}},
    "create_api_key": {"principal": "postman-batch", "scopes": ["workflow:read"]},
    "create_revocation": {"jti": "{{revokedJti}}", "expiresAt": "{{revokedExpiresAt}}"},
    "create_client": {"clientId": "{{newClientId}}", "scopes": ["workflow:read"]},
}

#: What a successful answer sets for the requests after it (variable, JSON field).
CAPTURES: dict[str, tuple[str, str]] = {
    "start_run": ("runId", "runId"),
    "create_api_key": ("keyId", "keyId"),
    "create_client": ("clientId", "clientId"),
}

#: Pre-request lines of single requests (fresh ids, so that the collection can run again).
PREPARE: dict[str, list[str]] = {
    "create_revocation": [
        "pm.variables.set('revokedJti', 'postman-' + pm.variables.replaceIn('{{$guid}}'));",
        "pm.variables.set('revokedExpiresAt', Math.floor(Date.now() / 1000) + 600);",
    ],
    "create_client": [
        "pm.variables.set('newClientId', 'postman-' + Date.now().toString(36));",
    ],
}

#: The collection's pre-request script: a token per kind of caller, fetched once per run.
TOKEN_SCRIPT = r"""
// Tokens from the token endpoint (client credentials, RFC 6749 section 4.4), fetched once.
function fetchToken(variable, url, clientId, clientSecret, scope) {
  if (pm.collectionVariables.get(variable) || !clientSecret) { return; }
  const body = [{ key: 'grant_type', value: 'client_credentials' }];
  if (scope) { body.push({ key: 'scope', value: scope }); }
  pm.sendRequest({
    url: url,
    method: 'POST',
    header: {
      Authorization: 'Basic ' + btoa(clientId + ':' + clientSecret),
      'Content-Type': 'application/x-www-form-urlencoded'
    },
    body: { mode: 'urlencoded', urlencoded: body }
  }, function (error, response) {
    if (error || response.code !== 200) {
      console.error('token request failed', variable, error || response.code);
      return;
    }
    pm.collectionVariables.set(variable, response.json().access_token);
  });
}
const base = pm.environment.get('baseUrl') || pm.variables.get('baseUrl');
fetchToken('adminToken', base + '/oauth/token', pm.variables.get('adminClientId'),
  pm.variables.get('adminClientSecret'));
fetchToken('demoToken', base + '/oauth/token', pm.variables.get('demoClientId'),
  pm.variables.get('demoClientSecret'));
fetchToken('oauthToken', pm.variables.get('oauthTokenUrl'), pm.variables.get('oauthClientId'),
  pm.variables.get('oauthClientSecret'), pm.variables.get('oauthScope'));
""".strip()

#: Answers accepted besides the success status. The local run's Secrets Manager (moto) cannot
#: invoke the rotation function, so the rotation a new key or client starts stays pending
#: there, and a rotation asked for right after creation is refused as in progress (409); on
#: AWS the rotation finishes within seconds and the same request answers 202.
ALSO_ACCEPTED: dict[str, tuple[int, ...]] = {"rotate_api_key": (409,), "rotate_client": (409,)}

_PARAM = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")


def _headers(route: Route) -> list[dict[str, str]]:
    headers: list[dict[str, str]] = []
    if route.authorizer is AuthorizerName.API_KEY:
        headers.append({"key": "X-Api-Key", "value": "{{apiKey}}"})
    elif route.guarded:
        token = "oauthToken" if route.allowed_schemes == {Scheme.OAUTH} else "adminToken"
        headers.append({"key": "Authorization", "value": f"Bearer {{{{{token}}}}}"})
    if route.function in BODIES:
        headers.append({"key": "Content-Type", "value": "application/json"})
    if route.function == "start_run":
        headers.append({"key": "Idempotency-Key", "value": "{{$guid}}"})
    return headers


def _item(route: Route, expected: int, summary: str) -> dict[str, Any]:
    path = _PARAM.sub(r"{{\1}}", route.path)
    request: dict[str, Any] = {
        "method": route.method,
        "header": _headers(route),
        "url": {
            "raw": "{{baseUrl}}" + path,
            "host": ["{{baseUrl}}"],
            "path": [part for part in path.split("/") if part],
        },
        "description": f"{summary}. Scope: {route.scope or 'any'}.",
    }
    if route.function in BODIES:
        raw = json.dumps(BODIES[route.function], indent=2)
        # A number set by a pre-request script: the placeholder must not stay a JSON string.
        raw = raw.replace('"{{revokedExpiresAt}}"', "{{revokedExpiresAt}}")
        request["body"] = {"mode": "raw", "raw": raw}
    if route.function == "issue_token":
        request["auth"] = {
            "type": "basic",
            "basic": [
                {"key": "username", "value": "{{demoClientId}}", "type": "string"},
                {"key": "password", "value": "{{demoClientSecret}}", "type": "string"},
            ],
        }
        request["body"] = {
            "mode": "urlencoded",
            "urlencoded": [{"key": "grant_type", "value": "client_credentials"}],
        }
    accepted = (expected, *ALSO_ACCEPTED.get(route.function, ()))
    check = (
        f"  pm.response.to.have.status({expected});"
        if len(accepted) == 1
        else f"  pm.expect(pm.response.code).to.be.oneOf({list(accepted)});"
    )
    tests = [
        f"pm.test('{route.method} {route.path} answers {' or '.join(map(str, accepted))}', "
        "function () {",
        check,
        "  pm.response.to.have.header('Content-Type');",
        "  pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');",
        "});",
    ]
    if route.function in CAPTURES:
        variable, field = CAPTURES[route.function]
        tests.append(f"pm.collectionVariables.set('{variable}', pm.response.json().{field});")
    events = [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}]
    if route.function in PREPARE:
        events.insert(
            0,
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": PREPARE[route.function]},
            },
        )
    return {"name": f"{route.method} {route.path}", "request": request, "event": events}


def collection() -> dict[str, Any]:
    from tools.openapi import OPERATIONS  # noqa: PLC0415

    items = [
        _item(route, OPERATIONS[route.function].success, OPERATIONS[route.function].summary)
        for route in ROUTES
    ]
    return {
        "info": {
            "name": "Workflow automation API",
            "_postman_id": "6f1d2f55-4d1b-4b43-9d0a-workflow-api",
            "description": "Every route of the API (generated by `python -m tools.openapi`; do "
            "not edit). Set the environment's client secrets and API key from "
            'local/.run/credentials.json (docs/api.md, "Postman").',
            "schema": SCHEMA,
        },
        "event": [
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": TOKEN_SCRIPT.splitlines()},
            }
        ],
        "variable": [{"key": key, "value": value} for key, value in VARIABLES.items()],
        "item": items,
    }


def environment() -> dict[str, Any]:
    return {
        "id": "0b7c3c51-31a8-4f5e-9a53-local-run",
        "name": "workflow-api local run (make run)",
        "values": [
            {"key": key, "value": value, "type": kind, "enabled": True}
            for key, value, kind in ENVIRONMENT
        ],
        "_postman_variable_scope": "environment",
    }
