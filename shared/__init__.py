"""Code shared by every function (deployed as the `shared` Lambda layer).

At the top, the cross-cutting facts, each in exactly one module: the route table (`routes`),
the scope rules (`scopes`), the settings (`settings`), the secret formats and staging labels
(`secret_formats`), the security table's item keys (`security_table`), observability and the
one audit writer (`observability`), the domain errors (`api_errors`) and the caller
(`caller`), the HTTP boundary (`http_api`) and the AWS boundary (`aws`).

Below, one package per capability, each with its own errors and a public surface in its
`__init__`: `runs`, `api_keys`, `revocations`, `rotation`, `clients` (the token service),
`edge` (WAF IP sets: lockouts and threat feeds).
docs/architecture.md has the map.

This module re-exports the facts every part needs; capabilities are imported by name.
"""

from shared.routes import (
    AUTHORIZERS,
    IDENTITY_HEADER,
    ROUTES,
    AuthorizerName,
    Route,
    Scheme,
    find_route,
    routes_of,
)
from shared.scopes import (
    ADMIN,
    KNOWN_SCOPES,
    READ,
    TRIGGER,
    Grants,
    ScopeClaimError,
    is_valid_scope,
    parse_scope_claims,
)
from shared.secret_formats import (
    ApiKeyRecord,
    ClientRecord,
    SecretFormatError,
    SigningKey,
    api_key_secret_name,
    is_signing_secret,
    new_api_key,
    new_key_id,
    new_signing_secret,
    parse_api_key,
    parse_signing_secret,
)
from shared.settings import AuthorizerSettings, ConfigurationError

__all__ = [
    "ADMIN",
    "AUTHORIZERS",
    "IDENTITY_HEADER",
    "KNOWN_SCOPES",
    "READ",
    "ROUTES",
    "TRIGGER",
    "ApiKeyRecord",
    "AuthorizerName",
    "AuthorizerSettings",
    "ClientRecord",
    "ConfigurationError",
    "Grants",
    "Route",
    "Scheme",
    "ScopeClaimError",
    "SecretFormatError",
    "SigningKey",
    "api_key_secret_name",
    "find_route",
    "is_signing_secret",
    "is_valid_scope",
    "new_api_key",
    "new_key_id",
    "new_signing_secret",
    "parse_api_key",
    "parse_scope_claims",
    "parse_signing_secret",
    "routes_of",
]
