"""Configuring and starting the local OAuth 2.0 provider (`local/oidc/server.mjs`).

The provider is the `oidc-provider` npm package (pinned in `local/oidc/package.json`), so OAuth
tokens in the local run come from a real, independent implementation. Keys are generated here
(ES256) so that tests can rotate them by restarting the provider with another key set.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from shared.scopes import ADMIN, READ, TRIGGER

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
SERVER_SCRIPT = OIDC_DIR / "server.mjs"
DEMO_CLIENT_ID = "workflow-demo"
#: The public client `wfctl login` uses (authorization code + PKCE, loopback redirect).
LOGIN_CLIENT_ID = "wfctl"
#: The one person of the local provider (printed in the banner: a demo, not a secret).
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
OTHER_AUDIENCE = "urn:example:another-api"
SIGNING_ALG = "ES256"


def node_binary() -> str | None:
    return shutil.which("node")


def is_installed() -> bool:
    return (OIDC_DIR / "node_modules" / "oidc-provider").is_dir()


def new_signing_key() -> dict[str, Any]:
    """A private P-256 JWK with a random kid."""
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))
    jwk.update({"kid": secrets.token_hex(8), "alg": SIGNING_ALG, "use": "sig"})
    return jwk


@dataclass(frozen=True, slots=True)
class OidcClient:
    client_id: str
    client_secret: str
    scope: str
    access_token_ttl: int = 300


@dataclass(frozen=True, slots=True)
class LoginClient:
    """The public client of `wfctl login` (`token_endpoint_auth_method: none`, PKCE)."""

    client_id: str = LOGIN_CLIENT_ID
    scope: str = f"openid offline_access {READ} {TRIGGER}"
    access_token_ttl: int = 300
    refresh_token_ttl: int = 86400


@dataclass(frozen=True, slots=True)
class OidcConfig:
    port: int
    audience: str
    clients: Sequence[OidcClient]
    keys: Sequence[dict[str, Any]] = field(default_factory=lambda: [new_signing_key()])
    login_client: LoginClient | None = field(default_factory=LoginClient)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def resource_indicator(self) -> str:
        """RFC 8707 wants an absolute URI; an audience like `workflow-api` is not one."""
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", self.audience):
            return self.audience
        return f"urn:workflow-api:audience:{self.audience}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    def to_json(self) -> dict[str, Any]:
        scopes = " ".join((READ, TRIGGER, ADMIN))
        return {
            "issuer": self.issuer,
            "port": self.port,
            "signing_alg": SIGNING_ALG,
            "jwks": {"keys": list(self.keys)},
            "scopes": ["openid", "offline_access", READ, TRIGGER, ADMIN],
            "cookie_key": secrets.token_urlsafe(32),
            "clients": [
                {
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "scope": c.scope,
                    "access_token_ttl": c.access_token_ttl,
                }
                for c in self.clients
            ],
            "login_client": None
            if self.login_client is None
            else {
                "client_id": self.login_client.client_id,
                "scope": self.login_client.scope,
                "access_token_ttl": self.login_client.access_token_ttl,
            },
            "refresh_token_ttl": (
                self.login_client.refresh_token_ttl if self.login_client else 86400
            ),
            "demo_user": {"login": DEMO_USER, "password": DEMO_PASSWORD},
            # The API's audience is the default resource; a second resource server lets tests
            # (and curious users) get a token that is valid, but for another audience.
            "default_resource": self.resource_indicator,
            "resources": [
                {"indicator": self.resource_indicator, "audience": self.audience, "scope": scopes},
                {"indicator": OTHER_AUDIENCE, "audience": OTHER_AUDIENCE, "scope": scopes},
            ],
        }


def demo_client(scope: str = f"{READ} {TRIGGER}") -> OidcClient:
    return OidcClient(DEMO_CLIENT_ID, secrets.token_urlsafe(24), scope)


def short_lived_client(ttl: int = 2) -> OidcClient:
    """A second client whose tokens expire in seconds (to see an expired token refused)."""
    return OidcClient(f"{DEMO_CLIENT_ID}-short-lived", secrets.token_urlsafe(24), READ, ttl)


def command(config_file: Path) -> list[str]:
    node = node_binary()
    if node is None:
        raise RuntimeError("Node.js is not installed")
    return [node, str(SERVER_SCRIPT), str(config_file)]
