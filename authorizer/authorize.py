"""The decision: read the request, verify its credential by the route's scheme, build the
policy, audit it. Plain code with injectable dependencies; `app.py` only wires it to Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from authorizer.api_keys import ApiKeyVerifier
from authorizer.audit import AuditRecord, audit_lockout, audit_new_source
from authorizer.errors import UNAUTHORIZED, UNAVAILABLE, CredentialError, DependencyError
from authorizer.guard import Guard, Precheck, Subject
from authorizer.policy import build_policy, covers
from authorizer.request import AuthRequest, bearer_token, read_request
from authorizer.secret_store import SecretStore
from shared.observability import logger
from shared.routes import AuthorizerName, Scheme
from shared.scopes import ScopeClaimError, parse_scope_claims
from shared.settings import AuthorizerSettings, ConfigurationError

if TYPE_CHECKING:  # the bearer path's modules import PyJWT; load them only when needed
    from authorizer.jwks import JwksCache
    from authorizer.oauth import OAuthTokenVerifier
    from authorizer.service_tokens import ServiceTokenVerifier

MAX_PRINCIPAL_LENGTH = 256
Context = dict[str, str | int | bool]


class Authorizer:
    """One per container: owns the caches, so they survive between invocations."""

    def __init__(
        self,
        settings: AuthorizerSettings,
        store: SecretStore | None = None,
        jwks: JwksCache | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.settings = settings
        self.store = SecretStore(settings.secret_cache_seconds) if store is None else store
        self._jwks = jwks
        self.api_keys = ApiKeyVerifier(settings, self.store)
        self.guard = Guard(settings.security) if guard is None else guard

    @cached_property
    def jwks(self) -> JwksCache:
        from authorizer.jwks import JwksCache  # noqa: PLC0415 - see TYPE_CHECKING above

        return JwksCache(self.settings) if self._jwks is None else self._jwks

    @cached_property
    def service_tokens(self) -> ServiceTokenVerifier:
        from authorizer.service_tokens import ServiceTokenVerifier  # noqa: PLC0415

        return ServiceTokenVerifier(self.settings, self.store)

    @cached_property
    def oauth_tokens(self) -> OAuthTokenVerifier:
        from authorizer.oauth import OAuthTokenVerifier  # noqa: PLC0415

        return OAuthTokenVerifier(self.settings, self.jwks)

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The Lambda contract: a policy, `Exception("Unauthorized")`, or another error."""
        audit = AuditRecord()
        try:
            request = read_request(event)
            audit.note_request(request)
            policy = self.decide(request, audit)
        except CredentialError as error:
            if error.reason != "rate_limited":
                self._record_failure(audit)
            audit.emit("unauthorized", error.reason)
            raise Exception(UNAUTHORIZED) from None
        except (DependencyError, ConfigurationError) as error:
            misconfigured = error if isinstance(error, ConfigurationError) else error.__cause__
            if isinstance(misconfigured, ConfigurationError):
                # The message names the misconfigured setting or secret, never a secret value.
                logger.error("authorizer misconfigured", detail=str(misconfigured))
            audit.emit("error", getattr(error, "reason", "configuration"))
            raise RuntimeError(UNAVAILABLE) from None
        except Exception as error:
            # A bug must fail closed too; log only the type (a message could echo input).
            logger.error("authorizer internal error", error_type=type(error).__name__)
            audit.emit("error", "internal")
            raise RuntimeError(UNAVAILABLE) from None
        invoked = request.arn.resource(request.arn.method, request.arn.path.lstrip("/"))
        allowed = covers(policy, invoked)
        audit.emit("allow" if allowed else "deny", "ok" if allowed else "not_permitted")
        return policy

    def decide(self, request: AuthRequest, audit: AuditRecord) -> dict[str, Any]:
        if request.credential is None:
            raise CredentialError("missing_credential")
        if request.route.authorizer is AuthorizerName.API_KEY:
            return self._api_key(request, request.credential, audit)
        return self._bearer(request, request.credential, audit)

    def _api_key(self, request: AuthRequest, presented: str, audit: AuditRecord) -> dict[str, Any]:
        audit.scheme = Scheme.API_KEY
        key_id = self.api_keys.key_id_of(presented)
        audit.key_id = key_id  # the id is not secret: audit it
        who = Subject(request.source_ip, credential_id=f"api_key:{key_id}", key_id=key_id)
        audit.subject = who
        precheck = self._precheck(who)
        verified = self.api_keys.verify(presented, key_id)
        record = verified.record
        audit.principal = record.principal
        if precheck.available and not precheck.source_seen:
            audit_new_source(audit)
            self.guard.remember_source(who)
        context: Context = {"key_id": key_id}
        return self._policy(request, Scheme.API_KEY, record.principal, record.scopes, context)

    def _bearer(self, request: AuthRequest, header: str, audit: AuditRecord) -> dict[str, Any]:
        from authorizer.jose import SERVICE_ALGORITHMS, parse_unverified  # noqa: PLC0415
        from authorizer.oauth import oauth_client_id, oauth_principal  # noqa: PLC0415

        token = parse_unverified(bearer_token(header))
        audit.kid = token.kid
        claimed = _claimed_principal(token.payload)
        jti = token.payload.get("jti")
        who = Subject(
            request.source_ip,
            credential_id=f"token:{claimed}" if claimed else None,
            jti=jti if isinstance(jti, str) and jti else None,
            subject=claimed,
        )
        audit.subject = who
        precheck = self._precheck(who)
        issuer = token.payload.get("iss")
        context: Context = {}
        # The (unverified) issuer picks the path; each path has its own algorithm allow-list
        # and key source, so an HS256 token claiming the OAuth issuer can never be accepted.
        if self.settings.oauth_issuer and issuer == self.settings.oauth_issuer:
            audit.scheme = scheme = Scheme.OAUTH
            claims = self.oauth_tokens.verify(token)
            principal = oauth_principal(claims)
            client_id = oauth_client_id(claims)
            if client_id:
                context["client_id"] = client_id[:MAX_PRINCIPAL_LENGTH]
        elif token.alg in SERVICE_ALGORITHMS:
            audit.scheme = scheme = Scheme.JWT
            claims = self.service_tokens.verify(token)
            principal = claims["sub"]
        else:
            raise CredentialError("bad_algorithm")
        audit.principal = principal[:MAX_PRINCIPAL_LENGTH]
        self._check_revocation(precheck, claims)
        try:
            scopes = parse_scope_claims(claims.get("scope"), claims.get("scp"))
        except ScopeClaimError:
            raise CredentialError("malformed") from None
        if who.jti:
            context["token_id"] = who.jti[:MAX_PRINCIPAL_LENGTH]
        context["expires_at"] = int(claims["exp"])
        return self._policy(request, scheme, principal, scopes, context)

    def _precheck(self, who: Subject) -> Precheck:
        """One read of the security table; a locked IP or credential stops here, unverified."""
        if not self.guard.enabled:
            return Precheck()
        precheck = self.guard.precheck(who)
        if precheck.available and self.guard.is_locked(precheck):
            raise CredentialError("rate_limited")
        return precheck

    def _check_revocation(self, precheck: Precheck, claims: Mapping[str, Any]) -> None:
        if not self.guard.enabled:
            return
        precheck.require_available()  # revocation fails closed, see guard.py
        if precheck.jti_revoked:
            raise CredentialError("revoked")
        before = precheck.subject_revoked_before
        if before is not None:
            issued = claims.get("iat")
            # A token without `iat` cannot prove it was issued after the revocation.
            if not isinstance(issued, int | float) or issued <= before:
                raise CredentialError("revoked")

    def _record_failure(self, audit: AuditRecord) -> None:
        if not self.guard.enabled or not audit.source_ip:
            return
        who = audit.subject or Subject(audit.source_ip)
        if self.guard.record_failure(who):
            audit_lockout(audit)

    def _policy(
        self,
        request: AuthRequest,
        scheme: Scheme,
        principal: str,
        scopes: tuple[str, ...],
        extra: Context,
    ) -> dict[str, Any]:
        if len(principal) > MAX_PRINCIPAL_LENGTH:
            raise CredentialError("malformed")
        context: Context = {
            "principal": principal,
            "scheme": scheme.value,
            "scopes": " ".join(scopes),
            **extra,
        }
        return build_policy(
            principal, request.arn, request.route.authorizer, scheme, scopes, context
        )


def _claimed_principal(payload: Mapping[str, Any]) -> str | None:
    """Who the token says it is, before verification: only to key lookups, never to decide."""
    for name in ("sub", "client_id", "azp"):
        value = payload.get(name)
        if isinstance(value, str) and value:
            return value[:MAX_PRINCIPAL_LENGTH]
    return None
