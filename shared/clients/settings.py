"""The token service's and the client admin functions' settings (docs/configuration.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.settings import (
    DEFAULT_CLIENT_PREFIX,
    ConfigurationError,
    DpopSettings,
    SecuritySettings,
    env_int,
    env_str,
    public_base_url,
)

DEFAULT_TOKEN_LIFETIME = 900
DEFAULT_MAX_LIFETIME = 3600
DEFAULT_GRACE_SECONDS = 86400
DEFAULT_ROTATE_AFTER_DAYS = 90
MIN_TOKEN_LIFETIME = 60


@dataclass(frozen=True, slots=True)
class TokenServiceSettings:
    """`POST /oauth/token` and its metadata. Secret names only, never secret values."""

    jwt_secret_id: str
    issuer: str
    audience: str
    token_lifetime_seconds: int = DEFAULT_TOKEN_LIFETIME
    max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME
    client_secret_prefix: str = DEFAULT_CLIENT_PREFIX
    client_secret_grace_seconds: int = DEFAULT_GRACE_SECONDS
    clock_skew_seconds: int = 60
    public_base_url: str | None = None
    """`PUBLIC_BASE_URL`; unset: `https://<the domain API Gateway was called on><stage>`."""
    secret_cache_seconds: int = 5
    security: SecuritySettings = field(default_factory=SecuritySettings)
    dpop: DpopSettings = field(default_factory=DpopSettings)
    """With DPoP on, a valid proof on the token request binds the token (docs/token-service.md)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenServiceSettings:
        env = os.environ if env is None else env
        secret_id = env_str(env, "JWT_SECRET_ID")
        issuer = env_str(env, "JWT_ISSUER")
        audience = env_str(env, "JWT_AUDIENCE")
        if not secret_id:
            raise ConfigurationError("JWT_SECRET_ID must be set for the token service")
        # Tokens the service issues are always bound to an issuer and an audience.
        if not issuer or not audience:
            raise ConfigurationError(
                "JWT_ISSUER and JWT_AUDIENCE must be set for the token service"
            )
        max_lifetime = env_int(env, "JWT_MAX_LIFETIME_SECONDS", DEFAULT_MAX_LIFETIME, minimum=1)
        lifetime = env_int(
            env, "TOKEN_LIFETIME_SECONDS", DEFAULT_TOKEN_LIFETIME, minimum=MIN_TOKEN_LIFETIME
        )
        if lifetime > max_lifetime:
            raise ConfigurationError(
                "TOKEN_LIFETIME_SECONDS must be at most JWT_MAX_LIFETIME_SECONDS "
                f"({lifetime} > {max_lifetime}): the authorizer would refuse every token"
            )
        security = SecuritySettings.from_env(env)
        return cls(
            jwt_secret_id=secret_id,
            issuer=issuer,
            audience=audience,
            token_lifetime_seconds=lifetime,
            max_lifetime_seconds=max_lifetime,
            client_secret_prefix=env_str(env, "CLIENT_SECRET_PREFIX", DEFAULT_CLIENT_PREFIX) or "",
            client_secret_grace_seconds=env_int(
                env, "CLIENT_SECRET_GRACE_SECONDS", DEFAULT_GRACE_SECONDS
            ),
            clock_skew_seconds=env_int(env, "CLOCK_SKEW_SECONDS", 60),
            public_base_url=public_base_url(env),
            secret_cache_seconds=env_int(env, "POWERTOOLS_PARAMETERS_MAX_AGE", 5),
            security=security,
            dpop=DpopSettings.from_env(env, security),
        )


@dataclass(frozen=True, slots=True)
class ClientAdminSettings:
    """The four client admin functions and `wfctl clients`."""

    client_secret_prefix: str = DEFAULT_CLIENT_PREFIX
    rotation_function_arn: str | None = None
    """Required to register a client with a secret, or to rotate one (checked there)."""
    rotate_after_days: int = DEFAULT_ROTATE_AFTER_DAYS
    recovery_window_days: int = 7
    token_lifetime_seconds: int = DEFAULT_TOKEN_LIFETIME
    """The longest `tokenLifetimeSeconds` a client may be given (`TOKEN_LIFETIME_SECONDS`)."""
    public_base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientAdminSettings:
        env = os.environ if env is None else env
        settings = cls(
            client_secret_prefix=env_str(env, "CLIENT_SECRET_PREFIX", DEFAULT_CLIENT_PREFIX) or "",
            rotation_function_arn=env_str(env, "ROTATION_FUNCTION_ARN"),
            rotate_after_days=env_int(
                env, "CLIENT_SECRET_ROTATE_AFTER_DAYS", DEFAULT_ROTATE_AFTER_DAYS, minimum=1
            ),
            recovery_window_days=env_int(env, "CLIENT_RECOVERY_WINDOW_DAYS", 7, minimum=7),
            token_lifetime_seconds=env_int(
                env, "TOKEN_LIFETIME_SECONDS", DEFAULT_TOKEN_LIFETIME, minimum=MIN_TOKEN_LIFETIME
            ),
            public_base_url=public_base_url(env),
        )
        if settings.rotate_after_days > 1000:
            raise ConfigurationError("CLIENT_SECRET_ROTATE_AFTER_DAYS must be at most 1000")
        if settings.recovery_window_days > 30:
            raise ConfigurationError("CLIENT_RECOVERY_WINDOW_DAYS must be at most 30")
        return settings
