"""The credential-scheme registry: every scheme registered once, on the authorizer whose
identity source carries it; a token's scheme chosen by the documented rules in registry order;
verifiers built on first use (PyJWT never loaded by the API-key path); and a new scheme added
by one registration."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from authorizer.authorize import Authorizer
from authorizer.errors import CredentialError
from authorizer.guard import Subject
from authorizer.identity import Identity
from authorizer.request import AuthRequest, read_request
from authorizer.schemes import (
    API_KEY,
    BEARER,
    SCHEMES,
    Presentation,
    Presented,
    Registration,
    Registry,
)
from authorizer.secret_store import SecretStore
from shared import AuthorizerName, AuthorizerSettings, Scheme, new_api_key
from shared.routes import AUTHORIZER_SCHEMES
from tests.helpers import ROOT, authorizer_event

ISSUER = "https://idp.example.com"
SETTINGS = AuthorizerSettings(oauth_issuer=ISSUER, oauth_audience="api")


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def token(alg: str, **claims: Any) -> str:
    return f"{b64({'alg': alg, 'kid': 'k1'})}.{b64(claims)}.c2ln"


def bearer_request(value: str, path: str = "/api/automate") -> AuthRequest:
    return read_request(authorizer_event("GET", path, {"Authorization": value}))


def test_every_scheme_is_registered_once_on_the_authorizer_that_carries_it() -> None:
    registered = [entry.scheme for entry in SCHEMES]
    assert sorted(registered) == sorted(Scheme)
    for authorizer, schemes in AUTHORIZER_SCHEMES.items():
        assert {e.scheme for e in SCHEMES if e.presentation.authorizer is authorizer} == schemes


def test_a_registry_that_could_not_work_is_refused_at_import() -> None:
    oauth, _, api_key = SCHEMES.registrations
    with pytest.raises(ValueError, match="twice"):
        Registry((oauth, oauth))
    with pytest.raises(ValueError, match="does not carry"):
        Registry((api_key._replace(presentation=BEARER),))
    impostor = BEARER._replace(authorizer=AuthorizerName.API_KEY)
    with pytest.raises(ValueError, match="named 'bearer'"):
        Registry((oauth, api_key._replace(presentation=impostor)))


def test_the_api_key_header_alone_decides_its_scheme() -> None:
    assert SCHEMES.sole_scheme(AuthorizerName.API_KEY) is Scheme.API_KEY
    assert SCHEMES.sole_scheme(AuthorizerName.BEARER) is None


@pytest.mark.parametrize(
    ("alg", "claims", "settings", "expected"),
    [
        # The unverified issuer picks OAuth first, whatever the algorithm: an HS256 token
        # claiming the OAuth issuer goes to the asymmetric-only verifier and fails there.
        ("RS256", {"iss": ISSUER}, SETTINGS, Scheme.OAUTH),
        ("HS256", {"iss": ISSUER}, SETTINGS, Scheme.OAUTH),
        ("HS256", {"iss": "https://services.internal"}, SETTINGS, Scheme.JWT),
        ("HS256", {}, SETTINGS, Scheme.JWT),
        ("HS256", {"iss": ISSUER}, AuthorizerSettings(), Scheme.JWT),  # no OAuth configured
        ("RS256", {"iss": "https://other.example"}, SETTINGS, "bad_algorithm"),
        ("none", {}, SETTINGS, "bad_algorithm"),
        ("HS512", {}, SETTINGS, "bad_algorithm"),
    ],
)
def test_a_bearer_token_takes_its_scheme_in_registry_order(
    alg: str, claims: dict[str, Any], settings: AuthorizerSettings, expected: Scheme | str
) -> None:
    request = bearer_request(f"Bearer {token(alg, sub='svc', **claims)}")
    assert request.credential is not None
    presentation, presented = SCHEMES.read(request, request.credential)
    assert presentation is BEARER
    if isinstance(expected, Scheme):
        assert SCHEMES.select(presentation, presented, settings) is expected
    else:
        with pytest.raises(CredentialError, match=expected):
            SCHEMES.select(presentation, presented, settings)


def test_the_bearer_presentation_keys_lookups_on_unverified_identifiers() -> None:
    value = f"bearer {token('HS256', client_id='c-1', jti='j-1')}"
    _, presented = SCHEMES.read(bearer_request(value), value)
    assert presented.subject == Subject("203.0.113.7", jti="j-1", subject="c-1")
    assert presented.kid == "k1"
    assert presented.key_id is None


@pytest.mark.parametrize("value", ["Basic abc", "Bearer", "Bearer  a.b.c", "DPoP a.b.c", "x"])
def test_a_value_no_presentation_recognises_is_malformed(value: str) -> None:
    with pytest.raises(CredentialError, match="malformed"):
        SCHEMES.read(bearer_request(value), value)


def test_the_api_key_presentation() -> None:
    key = new_api_key("abcdefghijklmnop")
    request = read_request(authorizer_event("GET", "/api/internal", {"X-Api-Key": key}))
    presentation, presented = SCHEMES.read(request, key)
    assert presentation is API_KEY
    assert presented.key_id == "abcdefghijklmnop"
    assert presented.subject == Subject("203.0.113.7", key_id="abcdefghijklmnop")
    with pytest.raises(CredentialError, match="malformed"):
        SCHEMES.read(request, "wfk_short")


def test_verifiers_are_built_on_first_use_and_replaceable() -> None:
    authz = Authorizer(SETTINGS, store=SecretStore(5, client_factory=object))
    verifiers = authz.verifiers
    assert verifiers == {}
    api_keys = authz.api_keys
    assert verifiers == {Scheme.API_KEY: api_keys}
    assert authz.api_keys is api_keys  # built once
    assert type(verifiers[Scheme.JWT]).__name__ == "ServiceTokenVerifier"
    assert set(verifiers) == {Scheme.API_KEY, Scheme.JWT}
    replacement = type(api_keys)(SETTINGS, authz.store)
    authz.api_keys = replacement
    assert verifiers[Scheme.API_KEY] is replacement
    with pytest.raises(KeyError):
        Registry(SCHEMES.registrations[:1]).verifiers(authz).replace(Scheme.JWT, replacement)


def test_the_api_key_path_never_imports_pyjwt() -> None:
    """Cold start: PyJWT (and the bearer modules) load only when a bearer token first comes."""
    code = """
import sys
import authorizer.app
from tests.helpers import authorizer_event
loaded = lambda: sorted(m for m in ("jwt", "authorizer.jose", "boto3") if m in sys.modules)
print(loaded())
try:
    authorizer.app.lambda_handler(
        authorizer_event("GET", "/api/internal", {"X-Api-Key": "wfk_malformed"}), None
    )
except Exception:
    pass
print(loaded())
try:
    authorizer.app.lambda_handler(
        authorizer_event("GET", "/api/automate", {"Authorization": "Bearer a.b.c"}), None
    )
except Exception:
    pass
print(loaded())
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert lines == ["[]", "[]", "['authorizer.jose', 'jwt']"]


# --- a new scheme is one module plus one registration -------------------------------------------


@dataclass(frozen=True)
class ProofBound:
    """A stand-in for a sender-constrained token: `Authorization: Proof <token>` plus a
    `Proof` header, as a DPoP-bound token would be presented (RFC 9449 section 7.1)."""

    token: str
    proof: str


def read_proof(value: str, request: AuthRequest) -> Presented[ProofBound] | None:
    name, _, presented = value.partition(" ")
    if name != "Proof" or not presented:
        return None
    proof = request.header("Proof")
    if proof is None:
        raise CredentialError("missing_proof")
    subject = Subject(request.source_ip, subject=presented)
    return Presented(ProofBound(presented, proof), subject)


class ProofVerifier:
    def verify(self, credential: ProofBound, /) -> Identity:
        if credential.proof != f"proof-of-{credential.token}":
            raise CredentialError("bad_proof")
        return Identity(Scheme.JWT, "svc-proof", ("workflow:read",), {"token_id": "t-1"})


PROOF = Presentation("proof", AuthorizerName.BEARER, read_proof, unmatched="malformed")


def test_a_new_presentation_and_verifier_plug_in_with_one_registration() -> None:
    registry = Registry(
        (
            Registration(Scheme.JWT, PROOF, lambda _c, _s: True, lambda _d: ProofVerifier()),
            *(entry for entry in SCHEMES if entry.scheme is not Scheme.JWT),
        )
    )
    authz = Authorizer(SETTINGS, store=SecretStore(5, client_factory=object), registry=registry)

    def call(headers: dict[str, str]) -> dict[str, Any]:
        return authz.handle(authorizer_event("GET", "/api/automate", headers))

    policy = call({"Authorization": "Proof abc", "Proof": "proof-of-abc"})
    assert policy["principalId"] == "svc-proof"
    assert policy["context"] == {
        "principal": "svc-proof",
        "scheme": "jwt",
        "scopes": "workflow:read",
        "token_id": "t-1",
    }
    for refused in (
        {"Authorization": "Proof abc", "Proof": "forged"},
        {"Authorization": "Proof abc"},
        {"Authorization": "Bearer abc", "Proof": "proof-of-abc"},  # not registered here
    ):
        with pytest.raises(Exception, match=r"^Unauthorized$") as caught:
            call(refused)
        assert type(caught.value) is Exception


@pytest.mark.parametrize(
    ("path", "headers", "scheme", "reason"),
    [
        ("/api/internal", {"X-Api-Key": "wfk_malformed"}, "api_key", "malformed"),
        ("/api/automate", {"Authorization": "Basic abc"}, "none", "malformed"),
        ("/api/automate", {"Authorization": f"Bearer {token('RS256')}"}, "none", "bad_algorithm"),
        (
            "/api/automate",
            {"Authorization": f"Bearer {token('HS256')}"},
            "jwt",
            "scheme_not_configured",
        ),
    ],
)
def test_the_audit_names_the_scheme_once_it_is_known(
    path: str, headers: dict[str, str], scheme: str, reason: str, log_lines: Any
) -> None:
    authz = Authorizer(SETTINGS, store=SecretStore(5, client_factory=object))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authz.handle(authorizer_event("GET", path, headers))
    (audit,) = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    assert (audit["scheme"], audit["reason"]) == (scheme, reason)
