"""The decision: read the request, verify its credential with the verifier the scheme registry
selects, check what the security table says, build the policy, audit it. Plain code with
injectable dependencies; `app.py` only wires it to Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from authorizer.api_keys import ApiKeyVerifier
from authorizer.audit import AuditRecord, audit_lockout, audit_new_source
from authorizer.dpop import SenderConstraint
from authorizer.errors import UNAUTHORIZED, UNAVAILABLE, CredentialError, DependencyError
from authorizer.guard import Guard, Precheck, Subject
from authorizer.identity import MAX_PRINCIPAL_LENGTH, Context, Identity
from authorizer.policy import build_policy, grants_of, permits
from authorizer.request import AuthRequest, read_request
from authorizer.schemes import SCHEMES, Registry
from authorizer.secret_store import SecretStore
from shared.observability import logger
from shared.routes import Scheme
from shared.settings import AuthorizerSettings, ConfigurationError

if TYPE_CHECKING:  # the bearer path's modules import PyJWT; load them only when needed
    from authorizer.jwks import JwksCache


class Authorizer:
    """One per container: owns the caches, so they survive between invocations."""

    def __init__(
        self,
        settings: AuthorizerSettings,
        store: SecretStore | None = None,
        jwks: JwksCache | None = None,
        guard: Guard | None = None,
        registry: Registry = SCHEMES,
    ) -> None:
        self.settings = settings
        self.store = SecretStore(settings.secret_cache_seconds) if store is None else store
        self._jwks = jwks
        self.guard = Guard(settings.security) if guard is None else guard
        self.registry = registry
        #: The DPoP step: modes, downgrade protection, proofs and their replay cache.
        self.sender = SenderConstraint(settings, self.guard)
        #: One verifier per scheme, each built when its scheme is first presented.
        self.verifiers = registry.verifiers(self)

    @cached_property
    def jwks(self) -> JwksCache:
        from authorizer.jwks import JwksCache  # noqa: PLC0415 - see TYPE_CHECKING above

        return JwksCache(self.settings) if self._jwks is None else self._jwks

    @property
    def api_keys(self) -> ApiKeyVerifier:
        """The `api_key` scheme's verifier (its negative cache is a flood test's subject)."""
        return cast(ApiKeyVerifier, self.verifiers[Scheme.API_KEY])

    @api_keys.setter
    def api_keys(self, verifier: ApiKeyVerifier) -> None:
        self.verifiers.replace(Scheme.API_KEY, verifier)

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The Lambda contract: a policy, `Exception("Unauthorized")`, or another error."""
        audit = AuditRecord()
        try:
            request = read_request(event)
            audit.note_request(request)
            policy, allowed = self.decide(request, audit)
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
        audit.emit("allow" if allowed else "deny", "ok" if allowed else "not_permitted")
        return policy

    def decide(self, request: AuthRequest, audit: AuditRecord) -> tuple[dict[str, Any], bool]:
        """The policy, and whether it lets the caller call the invoked route.

        Fixed order: parse the credential and select its scheme (no network, nothing verified)
        → one read of the security table, where a locked-out source IP stops → verify →
        revocation and new-source checks → policy. Each step audits what it learnt before the
        next can fail.
        """
        if request.credential is None:
            raise CredentialError("missing_credential")
        registry = self.registry
        sole = registry.sole_scheme(request.route.authorizer)
        if sole is not None:
            audit.scheme = sole  # known from the header alone: audited even if malformed
        presentation, presented = registry.read(request, request.credential)
        self.sender.admit(presentation)
        audit.kid, audit.key_id = presented.kid, presented.key_id
        audit.subject = presented.subject
        audit.scheme = scheme = registry.select(presentation, presented, self.settings)
        who = presented.subject
        if who.subject is not None:
            # A subject revocation names the scheme and its configured issuer, never the token's.
            who = who._replace(scheme=scheme, issuer=self.settings.issuer_of(scheme))
        audit.subject = who
        precheck = self._precheck(who)
        identity = self.verifiers[scheme].verify(presented.credential)
        audit.principal = identity.principal[:MAX_PRINCIPAL_LENGTH]
        if identity.revocable:
            self._check_revocation(precheck, identity)
        self.sender.check(request, presentation, presented, identity)
        if precheck.available and not precheck.source_seen:
            audit_new_source(audit)
            self.guard.remember_source(who)
        return self._policy(request, identity)

    def _precheck(self, who: Subject) -> Precheck:
        """One read of the security table; a locked-out source IP stops here, unverified."""
        if not self.guard.enabled:
            return Precheck()
        precheck = self.guard.precheck(who)
        if precheck.available and self.guard.is_locked(precheck):
            raise CredentialError("rate_limited")
        return precheck

    def _check_revocation(self, precheck: Precheck, identity: Identity) -> None:
        if not self.guard.enabled:
            return
        precheck.require_available()  # revocation fails closed, see guard.py
        if precheck.jti_revoked:
            raise CredentialError("revoked")
        before = precheck.subject_revoked_before
        if before is not None:
            issued = identity.issued_at
            # A token without `iat` cannot prove it was issued after the revocation; one issued
            # within the skew after it may come from a fast clock that minted it before.
            if issued is None or issued <= before + self.settings.clock_skew_seconds:
                raise CredentialError("revoked")

    def _record_failure(self, audit: AuditRecord) -> None:
        """Count the failure toward the source IP's lockout, and only toward it."""
        if not self.guard.enabled or not audit.source_ip:
            return
        if self.guard.record_failure(audit.source_ip):
            audit_lockout(audit)

    def _policy(self, request: AuthRequest, identity: Identity) -> tuple[dict[str, Any], bool]:
        """The cache-correct policy (every route of the authorizer the caller may call), and
        the verdict for the invoked route, from the same route rules."""
        principal, scheme, scopes = identity.principal, identity.scheme, identity.scopes
        if len(principal) > MAX_PRINCIPAL_LENGTH:
            raise CredentialError("malformed")
        context: Context = {
            "principal": principal,
            "scheme": scheme.value,
            "scopes": " ".join(scopes),
            **identity.context,
        }
        route = request.route
        policy = build_policy(principal, request.arn, route.authorizer, scheme, scopes, context)
        allowed = permits(route, scheme, grants_of(scopes), request.path_params)
        return policy, allowed
