"""The authorizer's error taxonomy: one root, three outcomes (pyjwt `exceptions.py`,
aws-jwt-verify `error.ts`).

- `CredentialError`: the caller's fault. Answered with `Exception("Unauthorized")` (HTTP 401).
- not permitted: a valid credential that may not call the route is not an exception; the policy
  simply does not list the route (HTTP 403), or is an explicit Deny when it lists nothing.
- `DependencyError`: our side failed (Secrets Manager, the JWKS endpoint, configuration) with
  nothing usable cached. Answered with a generic error (HTTP 500): fail closed, never allow.

Every error carries a stable `reason` code for the audit log; the client never sees it.
"""

from __future__ import annotations


class AuthorizerError(Exception):
    """Root of every error the authorizer raises on purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CredentialError(AuthorizerError):
    """The credential is missing, malformed, forged, expired, revoked or unknown (401)."""


class DependencyError(AuthorizerError):
    """A dependency failed or is misconfigured and nothing usable is cached (500, fail closed)."""


#: The message API Gateway maps to 401. Any other message is a 500.
UNAUTHORIZED = "Unauthorized"
#: What a dependency failure says to API Gateway: nothing about which one or why.
UNAVAILABLE = "Authorizer unavailable"
