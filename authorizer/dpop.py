"""Sender-constrained tokens at the authorizer (RFC 9449; docs/security.md, "Sender-constrained
tokens"): the `DPoP` presentation, the modes, downgrade protection and the replay cache.

A DPoP-bound token is the same `jwt` or `oauth` token as a bearer one, with a `cnf.jkt` claim;
what differs is how it is presented (`Authorization: DPoP <token>` plus one `DPoP: <proof>`
header) and one more step after the token is verified (`SenderConstraint.check`):

- `Bearer` presentation: a token with any `cnf` is refused (`dpop_bound_as_bearer`): otherwise
  a stolen bound token would work as a bearer token, the very thing binding prevents;
- `DPoP` presentation: the token must carry `cnf.jkt` (`dpop_unbound`), the proof must verify
  for this request (`shared.dpop`, each failure its reason code) with a key whose thumbprint is
  `cnf.jkt` (`dpop_key_mismatch`), and its `jti` must be new: one conditional write to the
  security table (`dpop_replay`; the table unreachable fails closed, 500).

The write comes last, after the token and the proof verified, so a forged proof costs no write.
The modes (`DPOP_MODE`) decide which presentations are admitted at all (`admit`), before any
verification work.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from authorizer.errors import CredentialError, DependencyError
from authorizer.guard import Guard, Subject
from authorizer.identity import MAX_PRINCIPAL_LENGTH, Identity, principal_of
from authorizer.request import AuthRequest
from shared.security_table import dpop_jti_key
from shared.settings import AuthorizerSettings, DpopMode

if TYPE_CHECKING:
    from authorizer.jose import UnverifiedToken
    from authorizer.schemes import Presentation, Presented

#: The proof's header (RFC 9449 section 4.1).
PROOF_HEADER = "DPoP"
#: `DPoP <token>`: the auth-scheme name is case-insensitive (RFC 9110 section 11.1), then one
#: space and a token without whitespace (RFC 9449 section 7.1).
_DPOP = re.compile(r"[Dd][Pp][Oo][Pp] (\S+)")
#: The longest request path put into a proof's URL (API Gateway's own limit is lower).
MAX_PATH_LENGTH = 2048

PRESENTATION_NAME = "dpop"
BEARER_PRESENTATION_NAME = "bearer"


def read_dpop(value: str, request: AuthRequest) -> Presented[UnverifiedToken] | None:
    """`Authorization: DPoP <JWT>` with exactly one `DPoP` header; nothing verified. The token is
    parsed as a bearer token is (so the same schemes select it), the proof kept for `check`."""
    from authorizer.schemes import Presented, _jose  # noqa: PLC0415 - schemes imports us

    found = _DPOP.fullmatch(value)
    if found is None:
        return None
    token: UnverifiedToken = _jose().parse_unverified(found.group(1))
    try:
        proof = request.header(PROOF_HEADER)
    except CredentialError as error:
        if error.reason == "multiple_credentials":  # RFC 9449 section 4.3, check 1
            raise CredentialError("dpop_multiple_proofs") from None
        if error.reason == "oversized":
            raise CredentialError("dpop_oversized") from None
        raise CredentialError("dpop_malformed") from None
    if not proof:
        raise CredentialError("dpop_missing_proof")
    claimed = principal_of(token.payload)
    jti = token.payload.get("jti")
    subject = Subject(
        request.source_ip,
        jti=jti if isinstance(jti, str) and jti else None,
        subject=claimed[:MAX_PRINCIPAL_LENGTH] if claimed else None,
    )
    return Presented(token, subject, token.kid, None, proof)


class SenderConstraint:
    """The DPoP step of a decision; one per container, like the guard it writes through."""

    def __init__(
        self,
        settings: AuthorizerSettings,
        guard: Guard,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._mode = settings.dpop.mode
        self._guard = guard
        self._clock = wall_clock

    def admit(self, presentation: Presentation[Any]) -> None:
        """Refuse a presentation the mode does not accept, before any verification work."""
        if presentation.name == PRESENTATION_NAME and self._mode is DpopMode.OFF:
            raise CredentialError("dpop_disabled")
        if presentation.name == BEARER_PRESENTATION_NAME and self._mode is DpopMode.REQUIRED:
            raise CredentialError("dpop_required")

    def check(
        self,
        request: AuthRequest,
        presentation: Presentation[Any],
        presented: Presented[Any],
        identity: Identity,
    ) -> None:
        """After the token verified: downgrade protection, the proof, and its one use."""
        if presentation.name == BEARER_PRESENTATION_NAME:
            if identity.bound:
                raise CredentialError("dpop_bound_as_bearer")
            return
        if presentation.name != PRESENTATION_NAME:
            return
        jkt = identity.context.get("cnf_jkt")
        if not isinstance(jkt, str):
            raise CredentialError("dpop_unbound")
        if presented.proof is None:  # unreachable: `read_dpop` requires one
            raise CredentialError("dpop_missing_proof")
        from shared.dpop import DpopProofError, verify_proof  # noqa: PLC0415 - PyJWT

        dpop = self._settings.dpop
        try:
            proof = verify_proof(
                presented.proof,
                method=request.http_method,
                url=request_url(request, self._settings.public_base_url),
                now=self._clock(),
                max_age=dpop.proof_max_age_seconds,
                skew=self._settings.clock_skew_seconds,
                access_token=presented.credential.raw,
            )
        except DpopProofError as error:
            raise CredentialError(error.reason) from None
        if proof.jkt != jkt:
            raise CredentialError("dpop_key_mismatch")
        if not self._guard.enabled:
            # Settings refuse DPoP without the table; a hand-built authorizer fails closed too.
            raise DependencyError("dpop_no_replay_store")
        if not self._guard.spend(dpop_jti_key(jkt, proof.jti), proof.keep_until):
            raise CredentialError("dpop_replay")


def request_url(request: AuthRequest, public_base_url: str | None) -> str:
    """The URL the caller called, as its proof's `htu` must name it: `PUBLIC_BASE_URL` + the
    request path (the event's `path`, relative to the stage), or, unset, the stage's own URL
    `https://<requestContext.domainName>/<stage>` + the path. Behind a custom domain the stage
    is not in the URL: set `PUBLIC_BASE_URL` (docs/configuration.md)."""
    event = request.event
    path = event.get("path")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_LENGTH:
        path = request.arn.path
    if public_base_url:
        return public_base_url + path
    context = event.get("requestContext")
    domain = context.get("domainName") if isinstance(context, dict) else None
    if not isinstance(domain, str) or not domain:
        raise CredentialError("dpop_wrong_url")
    return f"https://{domain}/{request.arn.stage}{path}"
