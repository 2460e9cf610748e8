"""Typed, frozen settings parsed once from the environment (docs/configuration.md).

Logic never reads `os.environ`: handlers build a settings object at cold start and pass it on.
A bad value fails fast with a message naming the variable, never with a traceback deep inside
a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

#: Leeway on `exp`, `nbf` and `iat` when `CLOCK_SKEW_SECONDS` is unset.
DEFAULT_CLOCK_SKEW_SECONDS = 60

#: Oldest DPoP proof `iat` accepted when `DPOP_PROOF_MAX_AGE_SECONDS` is unset (the template
#: parameter `DpopProofMaxAgeSeconds` has the same default).
DEFAULT_DPOP_PROOF_MAX_AGE_SECONDS = 300

#: Name prefix of API key secrets when `API_KEY_SECRET_PREFIX` is unset.
DEFAULT_API_KEY_PREFIX = "workflow-api/api-keys/"
#: Name prefix of token-service client secrets when `CLIENT_SECRET_PREFIX` is unset.
DEFAULT_CLIENT_PREFIX = "workflow-api/clients/"


class ConfigurationError(RuntimeError):
    """A setting or a configured secret is missing or invalid; the function cannot serve."""


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    raw = env.get(name, "").strip()
    return raw or default


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Lockout, revocation and anomaly settings (README, "Hardening")."""

    table_name: str | None = None
    """`SECURITY_TABLE_NAME`; unset disables lockout, token revocation and new-source alerts."""
    lockout_threshold: int = 10
    """`LOCKOUT_THRESHOLD`: failures from one source IP within one window that lock it out."""
    lockout_window_seconds: int = 300
    """`LOCKOUT_WINDOW_SECONDS`: the window, and so the longest lockout."""
    new_source_period_seconds: int = 30 * 86400
    """`NEW_SOURCE_PERIOD_SECONDS`: an API key used from an IP not seen within it is reported."""
    refresh_seconds: int = 5
    """`SECURITY_REFRESH_SECONDS`: how old the authorizer's snapshot of revocations and locked
    sources may be before the next invocation reads it again (docs/security.md)."""
    max_stale_seconds: int = 60
    """`SECURITY_MAX_STALE_SECONDS`: how long a last-good snapshot outlives failed refreshes
    before bearer tokens fail closed."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecuritySettings:
        settings = cls(
            table_name=env_str(env, "SECURITY_TABLE_NAME"),
            lockout_threshold=env_int(env, "LOCKOUT_THRESHOLD", 10, minimum=1),
            lockout_window_seconds=env_int(env, "LOCKOUT_WINDOW_SECONDS", 300, minimum=1),
            new_source_period_seconds=env_int(
                env, "NEW_SOURCE_PERIOD_SECONDS", 30 * 86400, minimum=1
            ),
            refresh_seconds=env_int(env, "SECURITY_REFRESH_SECONDS", 5),
            max_stale_seconds=env_int(env, "SECURITY_MAX_STALE_SECONDS", 60),
        )
        if settings.max_stale_seconds < settings.refresh_seconds:
            raise ConfigurationError(
                "SECURITY_MAX_STALE_SECONDS must be at least SECURITY_REFRESH_SECONDS"
            )
        return settings


class DpopMode(StrEnum):
    """`DPOP_MODE` (docs/security.md, "Sender-constrained tokens")."""

    OFF = "off"
    """The `DPoP` presentation is refused; the token service ignores proofs."""
    OPTIONAL = "optional"
    """Bearer and DPoP presentations are both accepted."""
    REQUIRED = "required"
    """Only the DPoP presentation is accepted."""


@dataclass(frozen=True, slots=True)
class DpopSettings:
    """Sender-constrained tokens (RFC 9449), for the authorizer and the token service alike."""

    mode: DpopMode = DpopMode.OFF
    proof_max_age_seconds: int = DEFAULT_DPOP_PROOF_MAX_AGE_SECONDS
    """`DPOP_PROOF_MAX_AGE_SECONDS`: the oldest proof `iat` accepted."""

    @property
    def enabled(self) -> bool:
        return self.mode is not DpopMode.OFF

    @classmethod
    def from_env(cls, env: Mapping[str, str], security: SecuritySettings) -> DpopSettings:
        raw = (env_str(env, "DPOP_MODE", DpopMode.OFF) or "").lower()
        try:
            mode = DpopMode(raw)
        except ValueError:
            raise ConfigurationError(
                f"DPOP_MODE must be off, optional or required, got {raw!r}"
            ) from None
        if mode is not DpopMode.OFF and security.table_name is None:
            # The replay cache lives there: without it no proof can be shown unused.
            raise ConfigurationError(f"DPOP_MODE={mode} needs SECURITY_TABLE_NAME (replay cache)")
        return cls(
            mode,
            env_int(
                env, "DPOP_PROOF_MAX_AGE_SECONDS", DEFAULT_DPOP_PROOF_MAX_AGE_SECONDS, minimum=1
            ),
        )


def public_base_url(env: Mapping[str, str]) -> str | None:
    """`PUBLIC_BASE_URL` without a trailing slash: https, plain http only on loopback."""
    url = env_str(env, "PUBLIC_BASE_URL")
    if url is None:
        return None
    if not is_trusted_url(url):
        raise ConfigurationError("PUBLIC_BASE_URL must be an https URL (http only on loopback)")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class AuthorizerSettings:
    """Everything the authorizer is configured with. Secret names only, never secret values."""

    jwt_secret_id: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_max_lifetime_seconds: int = 3600
    oauth_issuer: str | None = None
    oauth_audience: str | None = None
    oauth_jwks_uri: str | None = None
    oauth_max_lifetime_seconds: int = 86400
    """`OAUTH_MAX_LIFETIME_SECONDS`: longest accepted `exp - iat` of an OAuth access token."""
    jwks_cache_seconds: int = 600
    jwks_min_refresh_seconds: int = 30
    jwks_max_stale_seconds: int = 86400
    api_key_secret_prefix: str = DEFAULT_API_KEY_PREFIX
    api_key_grace_seconds: int = 86400
    clock_skew_seconds: int = DEFAULT_CLOCK_SKEW_SECONDS
    secret_cache_seconds: int = 5
    """How long a fetched secret version is reused (`POWERTOOLS_PARAMETERS_MAX_AGE`)."""
    security: SecuritySettings = field(default_factory=SecuritySettings)
    dpop: DpopSettings = field(default_factory=DpopSettings)
    public_base_url: str | None = None
    """`PUBLIC_BASE_URL`: what a DPoP proof's `htu` is checked against (with the request path);
    unset: `https://<requestContext.domainName>/<stage>`, the stage's own URL."""

    @property
    def longest_token_lifetime_seconds(self) -> int:
        """How far from now any token the authorizer accepts can expire: a lifetime from `iat`
        (plus the skew for OAuth tokens), and an `iat` up to the skew ahead."""
        longest = max(self.jwt_max_lifetime_seconds, self.oauth_max_lifetime_seconds)
        return longest + 2 * self.clock_skew_seconds

    def issuer_of(self, scheme: str) -> str:
        """The configured issuer of a token scheme (`""` when none is configured): what a
        subject revocation and the authorizer key a subject with, never a token's own claim."""
        issuer = self.oauth_issuer if scheme == "oauth" else self.jwt_issuer
        return issuer or ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthorizerSettings:
        env = os.environ if env is None else env
        security = SecuritySettings.from_env(env)
        settings = cls(
            jwt_secret_id=env_str(env, "JWT_SECRET_ID"),
            jwt_issuer=env_str(env, "JWT_ISSUER"),
            jwt_audience=env_str(env, "JWT_AUDIENCE"),
            jwt_max_lifetime_seconds=env_int(env, "JWT_MAX_LIFETIME_SECONDS", 3600, minimum=1),
            oauth_issuer=env_str(env, "OAUTH_ISSUER"),
            oauth_audience=env_str(env, "OAUTH_AUDIENCE"),
            oauth_jwks_uri=env_str(env, "OAUTH_JWKS_URI"),
            oauth_max_lifetime_seconds=env_int(env, "OAUTH_MAX_LIFETIME_SECONDS", 86400, minimum=1),
            jwks_cache_seconds=env_int(env, "JWKS_CACHE_SECONDS", 600),
            jwks_min_refresh_seconds=env_int(env, "JWKS_MIN_REFRESH_SECONDS", 30),
            jwks_max_stale_seconds=env_int(env, "JWKS_MAX_STALE_SECONDS", 86400),
            api_key_secret_prefix=env_str(env, "API_KEY_SECRET_PREFIX", DEFAULT_API_KEY_PREFIX)
            or "",
            api_key_grace_seconds=env_int(env, "API_KEY_GRACE_SECONDS", 86400),
            clock_skew_seconds=env_int(env, "CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW_SECONDS),
            # Powertools' documented default for its parameter cache is 5 seconds.
            secret_cache_seconds=env_int(env, "POWERTOOLS_PARAMETERS_MAX_AGE", 5),
            security=security,
            dpop=DpopSettings.from_env(env, security),
            public_base_url=public_base_url(env),
        )
        if settings.oauth_issuer and not settings.oauth_audience:
            raise ConfigurationError("OAUTH_AUDIENCE must be set when OAUTH_ISSUER is set")
        for name in ("OAUTH_ISSUER", "OAUTH_JWKS_URI"):
            uri = env_str(env, name)
            if uri and not is_trusted_url(uri):
                raise ConfigurationError(f"{name} must be an https URL (http only on loopback)")
        return settings


def is_trusted_url(uri: str) -> bool:
    """https anywhere; plain http only on loopback (the local run's OAuth provider)."""
    parsed = urlsplit(uri)
    if parsed.scheme == "https" and parsed.hostname:
        return True
    return parsed.scheme == "http" and parsed.hostname in _LOOPBACK


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


#: WAF's limit on one IP set (AWS WAF quotas: 10,000 addresses or ranges per IP set).
WAF_IP_SET_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    """The edge functions' settings (docs/configuration.md, "Edge defence"): the WAF IP sets
    they own, named by ARN, and the threat feeds the importer downloads."""

    blocked_sources_ipv4_arn: str | None = None
    """`BLOCKED_SOURCES_IPV4_SET_ARN`: the IPv4 `BlockedSources` set the sweeper writes."""
    blocked_sources_ipv6_arn: str | None = None
    """`BLOCKED_SOURCES_IPV6_SET_ARN`: its IPv6 twin."""
    threat_feed_ipv4_arn: str | None = None
    """`THREAT_FEED_IPV4_SET_ARN`: the IPv4 `ThreatFeed` set the importer replaces."""
    threat_feed_ipv6_arn: str | None = None
    """`THREAT_FEED_IPV6_SET_ARN`: its IPv6 twin."""
    threat_feed_urls: tuple[str, ...] = ()
    """`THREAT_FEED_URLS`: comma-separated https URLs; empty means nothing to import."""
    feed_timeout_seconds: int = 10
    """`THREAT_FEED_TIMEOUT_SECONDS`: the longest wait for any one connect or read."""
    feed_max_bytes: int = 4 * 1024 * 1024
    """`THREAT_FEED_MAX_BYTES`: a feed larger than this is refused."""
    feed_deadline_seconds: int = 60
    """`THREAT_FEED_DEADLINE_SECONDS`: all feeds must be downloaded within this."""
    security: SecuritySettings = field(default_factory=SecuritySettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EdgeSettings:
        env = os.environ if env is None else env
        urls = tuple(
            url.strip() for url in env.get("THREAT_FEED_URLS", "").split(",") if url.strip()
        )
        for url in urls:
            if not is_trusted_url(url):
                raise ConfigurationError(
                    "THREAT_FEED_URLS must hold https URLs (http only on loopback)"
                )
        return cls(
            blocked_sources_ipv4_arn=env_str(env, "BLOCKED_SOURCES_IPV4_SET_ARN"),
            blocked_sources_ipv6_arn=env_str(env, "BLOCKED_SOURCES_IPV6_SET_ARN"),
            threat_feed_ipv4_arn=env_str(env, "THREAT_FEED_IPV4_SET_ARN"),
            threat_feed_ipv6_arn=env_str(env, "THREAT_FEED_IPV6_SET_ARN"),
            threat_feed_urls=urls,
            feed_timeout_seconds=env_int(env, "THREAT_FEED_TIMEOUT_SECONDS", 10, minimum=1),
            feed_max_bytes=env_int(env, "THREAT_FEED_MAX_BYTES", 4 * 1024 * 1024, minimum=1024),
            feed_deadline_seconds=env_int(env, "THREAT_FEED_DEADLINE_SECONDS", 60, minimum=1),
            security=SecuritySettings.from_env(env),
        )
