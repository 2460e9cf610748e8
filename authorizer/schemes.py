"""The credential-scheme registry: the one place that says how each scheme's credential is
presented, which scheme a presented credential takes, and which verifier checks it. Nothing
else in the authorizer branches on a scheme.

A credential goes through it in this order (`authorize.Authorizer.decide`):

1. Read. The route's identity source (the header of the authorizer guarding it,
   `shared.routes.IDENTITY_HEADER`: the value API Gateway caches a policy on) is read by the
   presentations registered for that authorizer, in registry order. The first that
   recognises the value's syntax parses it, verifying nothing; a value that none recognises
   is `malformed`.
2. The lockout check runs on the parsed, unverified identifiers (`Presented.subject`).
3. Select. Of the schemes registered on that presentation, in registry order, the first
   whose `selects` admits the parsed credential takes it; none does: the presentation's
   `unmatched` reason. The unverified fields read here (a token's `iss`, `alg`) only choose
   among configured verifiers, each with its own key source and algorithm allow-list, so a
   token never picks its own key or algorithm (RFC 8725 sections 3.1 and 3.12).
4. Verify. That scheme's verifier returns an `Identity` or raises from `authorizer.errors`.

Verifiers are built on first use (`Verifiers`): the bearer schemes' modules import PyJWT,
and a container that only ever sees API keys never loads it. The records here are named
tuples, not frozen dataclasses: `Presented` is built on every call (in half the time), and a
frozen dataclass costs about 0.3 ms of cold start to define.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from authorizer.api_keys import ApiKey, ApiKeyVerifier
from authorizer.dpop import PRESENTATION_NAME, read_dpop
from authorizer.errors import CredentialError
from authorizer.guard import Subject
from authorizer.identity import MAX_PRINCIPAL_LENGTH, Identity, principal_of
from authorizer.request import AuthRequest
from authorizer.secret_store import SecretStore
from shared.routes import AUTHORIZER_SCHEMES, AuthorizerName, Scheme
from shared.secret_formats import parse_api_key
from shared.settings import AuthorizerSettings

if TYPE_CHECKING:  # these import PyJWT: loaded on first use only, see the module docstring
    from authorizer.jose import UnverifiedToken
    from authorizer.jwks import JwksCache
    from authorizer.oauth import OAuthTokenVerifier
    from authorizer.service_tokens import ServiceTokenVerifier

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


class Verifier(Protocol[C_contra]):
    """What every scheme's verifier does."""

    def verify(self, credential: C_contra, /) -> Identity:
        """The verified identity, or `CredentialError` (the caller's fault) or
        `DependencyError` (ours, fail closed)."""
        ...


class Dependencies(Protocol):
    """The per-container objects verifiers are built from (`authorize.Authorizer`)."""

    @property
    def settings(self) -> AuthorizerSettings: ...

    @property
    def store(self) -> SecretStore: ...

    @property
    def jwks(self) -> JwksCache: ...


class Presented(NamedTuple, Generic[C]):
    """A credential as the request presents it: parsed, nothing verified.

    `subject` keys the security table's lookups (lockout counters, revocations, seen sources)
    and `kid` / `key_id` go to the audit; none of them decides anything.
    """

    credential: C
    subject: Subject
    kid: str | None = None
    key_id: str | None = None
    proof: str | None = None
    """A DPoP proof that came with the credential (`authorizer.dpop`), checked after it."""


class Presentation(NamedTuple, Generic[C]):
    """One way of presenting a credential: on the identity source of `authorizer`, in the
    syntax that `read` recognises."""

    name: str
    authorizer: AuthorizerName
    read: Callable[[str, AuthRequest], Presented[C] | None]
    """The parsed credential; None when the value is not in this syntax (the next
    presentation is tried); `CredentialError` when it is, but is malformed."""
    unmatched: str
    """The reason code when no scheme registered on this presentation takes the credential."""


class Registration(NamedTuple, Generic[C]):
    """One scheme: how its credential is presented, when a presented credential is one of
    its own, and how its verifier is built."""

    scheme: Scheme
    presentation: Presentation[C]
    selects: Callable[[C, AuthorizerSettings], bool]
    build: Callable[[Dependencies], Verifier[C]]
    also: tuple[Presentation[C], ...] = ()
    """Other presentations of the same credential, selected by the same rule and verified by
    the same verifier (a bearer token presented as `DPoP`)."""


class Registry:
    """Registrations in selection order, indexed by identity source once, at import."""

    def __init__(self, registrations: Iterable[Registration[Any]]) -> None:
        self.registrations = tuple(registrations)
        self._by_scheme = {entry.scheme: entry for entry in self.registrations}
        if len(self._by_scheme) != len(self.registrations):
            raise ValueError("a scheme is registered twice")
        named: dict[str, Presentation[Any]] = {}
        presentations: dict[AuthorizerName, dict[str, Presentation[Any]]] = {}
        schemes: dict[str, list[Registration[Any]]] = {}
        for entry in self.registrations:
            for presentation in (entry.presentation, *entry.also):
                if named.setdefault(presentation.name, presentation) is not presentation:
                    raise ValueError(f"two presentations are named {presentation.name!r}")
                if entry.scheme not in AUTHORIZER_SCHEMES[presentation.authorizer]:
                    # Its policies would never allow a route (`Route.allowed_schemes`).
                    raise ValueError(f"{presentation.authorizer} does not carry {entry.scheme}")
                found = presentations.setdefault(presentation.authorizer, {})
                found.setdefault(presentation.name, presentation)
                schemes.setdefault(presentation.name, []).append(entry)
        self._presentations = {
            source: tuple(found.values()) for source, found in presentations.items()
        }
        self._schemes = {name: tuple(entries) for name, entries in schemes.items()}
        self._sole: dict[AuthorizerName, Scheme] = {}
        for source, found in presentations.items():
            entries = [entry for name in found for entry in self._schemes[name]]
            if len(entries) == 1:
                self._sole[source] = entries[0].scheme

    def __iter__(self) -> Iterator[Registration[Any]]:
        return iter(self.registrations)

    def sole_scheme(self, authorizer: AuthorizerName) -> Scheme | None:
        """The scheme, when the identity source alone decides it (whatever an `X-Api-Key`
        value holds, it is meant as an API key)."""
        return self._sole.get(authorizer)

    def read(self, request: AuthRequest, value: str) -> tuple[Presentation[Any], Presented[Any]]:
        """Step 1: the first presentation of the route's identity source that parses `value`."""
        for presentation in self._presentations.get(request.route.authorizer, ()):
            presented = presentation.read(value, request)
            if presented is not None:
                return presentation, presented
        raise CredentialError("malformed")

    def select(
        self,
        presentation: Presentation[Any],
        presented: Presented[Any],
        settings: AuthorizerSettings,
    ) -> Scheme:
        """Step 3: the first scheme of that presentation whose rule admits the credential."""
        for entry in self._schemes[presentation.name]:
            if entry.selects(presented.credential, settings):
                return entry.scheme
        raise CredentialError(presentation.unmatched)

    def verifiers(self, dependencies: Dependencies) -> Verifiers:
        return Verifiers(self._by_scheme, dependencies)


class Verifiers(dict[Scheme, Verifier[Any]]):
    """The verifier of each registered scheme, built the first time it is looked up and kept for
    the container's life (its caches with it). A dict: a lookup after the first costs nothing
    more than a dict's."""

    def __init__(
        self, registrations: Mapping[Scheme, Registration[Any]], dependencies: Dependencies
    ) -> None:
        super().__init__()
        self._registrations = registrations
        self._dependencies = dependencies

    def __missing__(self, scheme: Scheme) -> Verifier[Any]:
        verifier = self._registrations[scheme].build(self._dependencies)
        self[scheme] = verifier
        return verifier

    def replace(self, scheme: Scheme, verifier: Verifier[Any]) -> None:
        """Use `verifier` for `scheme` from now on (tests give one other clocks)."""
        if scheme not in self._registrations:
            raise KeyError(scheme)
        self[scheme] = verifier


# --- presentations ----------------------------------------------------------------------------


@cache
def _jose() -> ModuleType:
    """`authorizer.jose`, imported when the first bearer token comes (it imports PyJWT), then
    kept: cheaper on the warm path than an import statement per call."""
    import authorizer.jose  # noqa: PLC0415 - see the module docstring

    return authorizer.jose


#: `Bearer <token>`: the auth-scheme name is case-insensitive (RFC 9110 section 11.1), then
#: one space and a token without whitespace (RFC 6750 section 2.1).
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] (\S+)")


def read_bearer(value: str, request: AuthRequest) -> Presented[UnverifiedToken] | None:
    """`Authorization: Bearer <JWT>`. The revocation lookups are keyed on who the token says it
    is and on its `jti`, read unverified (the lockout only ever on the source IP)."""
    found = _BEARER.fullmatch(value)
    if found is None:
        return None
    token: UnverifiedToken = _jose().parse_unverified(found.group(1))
    claimed = principal_of(token.payload)
    if claimed is not None:
        claimed = claimed[:MAX_PRINCIPAL_LENGTH]
    jti = token.payload.get("jti")
    subject = Subject(
        request.source_ip, jti=jti if isinstance(jti, str) and jti else None, subject=claimed
    )
    return Presented(token, subject, token.kid, None)


def read_api_key(value: str, request: AuthRequest) -> Presented[ApiKey]:
    """`X-Api-Key: wfk_<keyId>_<secret>`. A malformed key is refused here, before any network
    call; the key id is not secret, and keys the lookups and the audit."""
    key_id = parse_api_key(value)
    if key_id is None:
        raise CredentialError("malformed")
    subject = Subject(request.source_ip, key_id=key_id)
    return Presented(ApiKey(value, key_id), subject, None, key_id)


BEARER = Presentation("bearer", AuthorizerName.BEARER, read_bearer, unmatched="bad_algorithm")
#: `Authorization: DPoP <JWT>` plus a `DPoP` proof header (RFC 9449 section 7.1): the same
#: tokens as `BEARER`, bound to a key (`authorizer.dpop`).
DPOP = Presentation(PRESENTATION_NAME, AuthorizerName.BEARER, read_dpop, unmatched="bad_algorithm")
API_KEY = Presentation("api_key", AuthorizerName.API_KEY, read_api_key, unmatched="malformed")


# --- which scheme a presented credential takes ---------------------------------------------


def names_oauth_issuer(token: UnverifiedToken, settings: AuthorizerSettings) -> bool:
    """The token claims the configured OAuth issuer (exactly). Only asymmetric algorithms and
    the provider's keys are tried then, so an HS256 token claiming it is never accepted."""
    return bool(settings.oauth_issuer) and token.payload.get("iss") == settings.oauth_issuer


def has_service_algorithm(token: UnverifiedToken, settings: AuthorizerSettings) -> bool:
    """Any other token with a service-token algorithm (HS256) is a service token."""
    return token.alg in _jose().SERVICE_ALGORITHMS


def always(credential: object, settings: AuthorizerSettings) -> bool:
    """The presentation alone decides the scheme."""
    return True


# --- verifiers, built on first use --------------------------------------------------------------


def oauth_verifier(dependencies: Dependencies) -> OAuthTokenVerifier:
    from authorizer.oauth import OAuthTokenVerifier  # noqa: PLC0415 - PyJWT

    return OAuthTokenVerifier(dependencies.settings, dependencies.jwks)


def service_token_verifier(dependencies: Dependencies) -> ServiceTokenVerifier:
    from authorizer.service_tokens import ServiceTokenVerifier  # noqa: PLC0415 - PyJWT

    return ServiceTokenVerifier(dependencies.settings, dependencies.store)


def api_key_verifier(dependencies: Dependencies) -> ApiKeyVerifier:
    return ApiKeyVerifier(dependencies.settings, dependencies.store)


#: Every scheme the authorizer accepts, in selection order: a bearer token naming the OAuth
#: issuer is an OAuth token; any other bearer token must be a service token. Either may come
#: bound to a key and presented as `DPoP`.
SCHEMES = Registry(
    (
        Registration(Scheme.OAUTH, BEARER, names_oauth_issuer, oauth_verifier, also=(DPOP,)),
        Registration(
            Scheme.JWT, BEARER, has_service_algorithm, service_token_verifier, also=(DPOP,)
        ),
        Registration(Scheme.API_KEY, API_KEY, always, api_key_verifier),
    )
)
