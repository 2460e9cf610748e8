"""Lambda entry point of both API Gateway authorizers (`BearerAuthorizer`, `ApiKeyAuthorizer`).

Settings are read and validated at cold start; caches live on the module-level `AUTHORIZER` so
they survive between invocations. The event is never logged (it carries the credential).
"""

from __future__ import annotations

from typing import Any

from authorizer.authorize import Authorizer
from shared.settings import AuthorizerSettings

AUTHORIZER = Authorizer(AuthorizerSettings.from_env())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return AUTHORIZER.handle(event)  # one audit line and one metric blob per call, see audit.py
