"""Code shared by every function (deployed as the `shared` Lambda layer).

The public surface is what this module re-exports; the route table, the scope rules, the secret
formats and the settings each live in exactly one module.
"""

from shared.routes import (
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
    "IDENTITY_HEADER",
    "KNOWN_SCOPES",
    "READ",
    "ROUTES",
    "TRIGGER",
    "ApiKeyRecord",
    "AuthorizerName",
    "AuthorizerSettings",
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
