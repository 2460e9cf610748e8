"""The token service: one token request in, one token or one RFC 6749 error out, one audit line
and one metric either way (docs/token-service.md).

Order of work, cheapest and least revealing first:

1. the form (content type, size, syntax, repeated parameters) and the grant type;
2. the source IP's lockout (a locked IP gets `invalid_client` without any verification work);
3. the one client authentication method, then the client's registration and its credential
   (a secret compared in constant time against AWSCURRENT, and AWSPREVIOUS within the grace
   window; or a private_key_jwt assertion, whose `jti` is then spent in the security table);
4. the scopes (never beyond the client's `allowed_scopes`);
5. with DPoP on, a proof (checked right after the grant type, without any network call) has
   its `jti` spent in the security table, last, so a forged request burns nobody's proof;
6. the token, signed with the AWSCURRENT signing key, bound to the proof's key if one came.

A failed client authentication counts toward the source IP's lockout, never toward the client
id: anyone can name any client id, and counting it would let anyone lock a client out.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared import aws, dpop
from shared.api_errors import ApiError, TokenEndpointError
from shared.clients import authentication, form, issuance
from shared.clients.errors import InvalidClientError, InvalidDpopProofError
from shared.clients.settings import TokenServiceSettings
from shared.clients.store import ClientStore, ClientVersions, SecretCache, SecurityStore
from shared.observability import NAMESPACE, SERVICE, metrics, write_audit
from shared.scopes import KNOWN_SCOPES
from shared.secret_formats import CLIENT_ID_PATTERN, ClientRecord
from shared.settings import DpopMode

ISSUED_METRIC = "TokenIssued"
REFUSED_METRIC = "TokenRefused"
AUDIT_MESSAGE = "token request"
TOKEN_PATH = "/oauth/token"


@dataclass(slots=True)
class _Attempt:
    """What is known of a request as it is worked through (for its audit line)."""

    request: form.TokenHttpRequest
    method: str | None = None
    claimed_client_id: str | None = None
    client_id: str | None = None
    """Set once the client is authenticated."""
    scopes: tuple[str, ...] = field(default_factory=tuple)
    jkt: str | None = None
    """The DPoP key the request proved, once its proof verified."""


class TokenService:
    def __init__(
        self,
        settings: TokenServiceSettings,
        clients: ClientStore,
        security: SecurityStore,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._clients = clients
        self._security = security
        self._clock = wall_clock

    # -- the token endpoint ----------------------------------------------------------------

    def issue(self, request: form.TokenHttpRequest) -> issuance.IssuedToken:
        """A token for the authenticated client, or a `TokenEndpointError` (or a dependency
        error). Writes the audit line and the metric either way."""
        attempt = _Attempt(request)
        try:
            token = self._issue(attempt)
        except ApiError as error:
            self._refused(attempt, error)
            raise
        except Exception:
            self._refused(attempt, None)
            raise
        self._issued(attempt, token)
        return token

    def _issue(self, attempt: _Attempt) -> issuance.IssuedToken:
        request = attempt.request
        body = form.read_form(request)
        form.check_grant(body)
        proof = self._proof(request)
        if proof is not None:
            attempt.jkt = proof.jkt
        if self._security.is_locked(request.source_ip):
            raise InvalidClientError("rate_limited", basic_tried=bool(request.authorizations))
        try:
            presented = form.presented_client(body, request.authorizations)
            attempt.method = presented.method.value
            client = self._authenticate(presented, attempt)
        except InvalidClientError:
            self._security.record_failure(request.source_ip)
            raise
        attempt.client_id = client.client_id
        scopes = issuance.grant_scopes(body.scope, client.allowed_scopes)
        attempt.scopes = scopes
        lifetime = issuance.lifetime_for(client, self.settings.token_lifetime_seconds)
        if proof is not None and not self._security.spend_dpop_proof(
            proof.jkt, proof.jti, proof.keep_until
        ):
            raise InvalidDpopProofError("dpop_replay")
        return issuance.mint(
            self._clients.signing_key(),
            client.client_id,
            scopes,
            issuer=self.settings.issuer,
            audience=self.settings.audience,
            lifetime=lifetime,
            now=self._clock(),
            jkt=None if proof is None else proof.jkt,
        )

    def _proof(self, request: form.TokenHttpRequest) -> dpop.VerifiedProof | None:
        """The request's DPoP proof, verified for `POST` to the token endpoint (no `ath`: no
        access token yet), or None when it carries none. With `DPOP_MODE=off` proofs are
        ignored, as by a server that does not support DPoP: the answer's `token_type: Bearer`
        tells the client its token is not bound (RFC 9449 section 5)."""
        configured = self.settings.dpop
        if not configured.enabled:
            return None
        proofs = request.dpop_proofs
        if not proofs:
            if configured.mode is DpopMode.REQUIRED:
                # The authorizer would refuse the bearer token this request asks for.
                raise InvalidDpopProofError("dpop_missing_proof")
            return None
        if len(proofs) > 1:
            raise InvalidDpopProofError("dpop_multiple_proofs")
        try:
            return dpop.verify_proof(
                proofs[0],
                method="POST",
                url=request.endpoint_url,
                now=self._clock(),
                max_age=configured.proof_max_age_seconds,
                skew=self.settings.clock_skew_seconds,
            )
        except dpop.DpopProofError as error:
            raise InvalidDpopProofError(error.reason) from None

    def _authenticate(self, presented: form.PresentedClient, attempt: _Attempt) -> ClientRecord:
        basic = presented.basic_tried
        if presented.method is form.AuthMethod.PRIVATE_KEY_JWT:
            assert presented.assertion is not None  # noqa: S101 - guaranteed by presented_client
            issuer = authentication.assertion_issuer(presented.assertion)
            if presented.client_id is not None and presented.client_id != issuer:
                raise InvalidClientError("assertion_client_mismatch")
            client_id = issuer
        else:
            assert presented.client_id is not None  # noqa: S101 - guaranteed by presented_client
            client_id = presented.client_id
        if CLIENT_ID_PATTERN.fullmatch(client_id):
            attempt.claimed_client_id = client_id
        else:
            # Never a Secrets Manager call for an id that cannot exist.
            raise InvalidClientError("malformed_client_id", basic_tried=basic)
        versions = self._clients.client(client_id)
        if versions is None:
            raise InvalidClientError("unknown_client", basic_tried=basic)
        if versions.current.revoked:
            raise InvalidClientError("revoked_client", basic_tried=basic)
        if presented.method is form.AuthMethod.PRIVATE_KEY_JWT:
            assert presented.assertion is not None  # noqa: S101
            return self._check_assertion(
                presented.assertion, versions.current, attempt.request.endpoint_url
            )
        assert presented.secret is not None  # noqa: S101
        if _secret_matches(presented.secret, versions):
            return versions.current
        # A secret just rotated in may not be in our cache yet: read again, once in a while.
        if self._clients.may_refresh(client_id):
            fresh = self._clients.client(client_id, refresh=True)
            if (
                fresh is not None
                and not fresh.current.revoked
                and _secret_matches(presented.secret, fresh)
            ):
                return fresh.current
        raise InvalidClientError("bad_secret", basic_tried=basic)

    def _check_assertion(
        self, assertion: str, client: ClientRecord, endpoint_url: str
    ) -> ClientRecord:
        if not client.jwks:
            raise InvalidClientError("no_registered_keys")
        now = self._clock()
        skew = self.settings.clock_skew_seconds
        # RFC 7523 section 3: the token endpoint's URL, or the issuer, identifies us.
        audiences = {self.settings.issuer, endpoint_url}
        verified = authentication.verify_assertion(
            assertion, client, audiences, now=now, leeway=skew
        )
        if not self._security.spend_assertion(
            client.client_id, verified.jti, int(verified.expires_at) + skew
        ):
            raise InvalidClientError("assertion_replay")
        return client

    # -- metadata (RFC 8414) ---------------------------------------------------------------

    def metadata(self, base_url: str) -> dict[str, Any]:
        return {
            "issuer": self.settings.issuer,
            "token_endpoint": self.token_endpoint(base_url),
            "grant_types_supported": [form.CLIENT_CREDENTIALS],
            "token_endpoint_auth_methods_supported": [method.value for method in form.AuthMethod],
            "token_endpoint_auth_signing_alg_values_supported": list(
                authentication.ASSERTION_ALGORITHMS
            ),
            "scopes_supported": list(KNOWN_SCOPES),
            "response_types_supported": [],
            **self._dpop_metadata(),
        }

    def _dpop_metadata(self) -> dict[str, Any]:
        """RFC 9449 section 5.1: the proof algorithms, when DPoP is on."""
        if not self.settings.dpop.enabled:
            return {}
        return {"dpop_signing_alg_values_supported": list(dpop.DPOP_ALGORITHMS)}

    def token_endpoint(self, base_url: str) -> str:
        """`PUBLIC_BASE_URL` + `/oauth/token`, else the URL the request came in on."""
        return (self.settings.public_base_url or base_url) + TOKEN_PATH

    # -- audit and metrics ----------------------------------------------------------------

    def _issued(self, attempt: _Attempt, token: issuance.IssuedToken) -> None:
        self._audit(attempt, "issued", "issued", jti=token.jti, kid=token.kid, cnf_jkt=token.jkt)
        metrics.add_metric(name=ISSUED_METRIC, unit=MetricUnit.Count, value=1)

    def _refused(self, attempt: _Attempt, error: ApiError | None) -> None:
        if isinstance(error, TokenEndpointError):
            reason = str(error) or error.code
        elif error is not None:
            reason = f"dependency:{error.code}"
        else:
            reason = "internal_error"
        self._audit(attempt, "refused", reason)
        refused_metric(reason)

    def _audit(self, attempt: _Attempt, decision: str, reason: str, **fields: Any) -> None:
        request = attempt.request
        write_audit(
            AUDIT_MESSAGE,
            audit=True,
            decision=decision,
            reason=reason,
            client_id=attempt.client_id,
            claimed_client_id=attempt.claimed_client_id if attempt.client_id is None else None,
            auth_method=attempt.method,
            scopes=" ".join(attempt.scopes) if attempt.scopes else None,
            source_ip=request.source_ip,
            request_id=request.request_id,
            **fields,
        )


def _secret_matches(presented: str, versions: ClientVersions) -> bool:
    # Both comparisons always run: the answer's timing does not say which version matched.
    current = authentication.secret_matches(presented, versions.current)
    previous = versions.previous is not None and authentication.secret_matches(
        presented, versions.previous
    )
    return current or previous


def refused_metric(reason: str) -> None:
    """One EMF blob for a refusal with its reason as a dimension (Powertools' `single_metric`):
    the function's other metrics keep their own, dimensionless blob."""
    from aws_lambda_powertools.metrics import single_metric  # noqa: PLC0415

    dimensions = {"service": metrics.service or SERVICE, "reason": reason.split(":", 1)[0][:64]}
    with single_metric(
        name=REFUSED_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions=dimensions,
    ):
        pass


def new_secrets_client() -> Any:
    return aws.client("secretsmanager")


def new_dynamodb_client() -> Any:
    return aws.client("dynamodb", connect_timeout=1, read_timeout=1, max_retries=2)


@functools.cache
def default_service() -> TokenService:
    """The container's service, built at first use (tests call `cache_clear()`)."""
    settings = TokenServiceSettings.from_env()
    # Looked up at call time, so that tests can replace the module's client factories.
    cache = SecretCache(lambda: new_secrets_client(), settings.secret_cache_seconds)  # noqa: PLW0108
    clients = ClientStore(
        cache,
        settings.client_secret_prefix,
        settings.jwt_secret_id,
        settings.client_secret_grace_seconds,
    )
    security = SecurityStore(settings.security, lambda: new_dynamodb_client())  # noqa: PLW0108
    return TokenService(settings, clients, security)
