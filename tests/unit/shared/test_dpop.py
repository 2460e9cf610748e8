"""DPoP proof verification (RFC 9449 section 4.3): one accepted proof per algorithm, one test
per failure class, the URL normalisation, the thumbprint, and a property test that any change
to a valid proof's header or claims is refused."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.dpop import (
    DPOP_ALGORITHMS,
    MAX_JTI_LENGTH,
    MAX_PROOF_LENGTH,
    DpopProofError,
    VerifiedProof,
    access_token_hash,
    same_url,
    thumbprint,
    verify_proof,
)
from tests.dpop_keys import DpopKey

URL = "https://api.example.com/v1/api/automate"
TOKEN = "header.payload.signature-of-the-access-token"
NOW = time.time()
KEY = DpopKey("ES256")


@pytest.fixture(autouse=True)
def _now() -> None:
    """`NOW` is each test's own start: proofs made without an explicit `iat` carry the wall
    clock, which must not drift from it however long the suite has run."""
    global NOW  # noqa: PLW0603 - the module's clock, read by `verify` and the tests
    NOW = time.time()


def verify(proof: str, *, method: str = "GET", url: str = URL, token: str | None = TOKEN,
           now: float | None = None) -> VerifiedProof:  # fmt: skip
    return verify_proof(
        proof,
        method=method,
        url=url,
        now=NOW if now is None else now,
        max_age=300,
        skew=60,
        access_token=token,
    )


def refused(proof: str, reason: str, **kwargs: Any) -> None:
    with pytest.raises(DpopProofError) as caught:
        verify(proof, **kwargs)
    assert caught.value.reason == reason


@pytest.mark.parametrize("alg", DPOP_ALGORITHMS)
def test_a_valid_proof_of_each_algorithm_is_accepted(alg: str) -> None:
    key = KEY if alg == "ES256" else DpopKey(alg)
    proof = key.proof("GET", URL, TOKEN, jti="proof-1", iat=int(NOW))
    verified = verify(proof)
    assert verified == VerifiedProof("proof-1", key.jkt, float(int(NOW)), int(NOW) + 300 + 60)


def test_the_token_endpoint_proof_needs_no_ath() -> None:
    proof = KEY.proof("POST", "https://api.example.com/v1/oauth/token")
    assert verify(proof, method="POST", url="https://api.example.com/v1/oauth/token", token=None)


# --- shape and header ---------------------------------------------------------------------


def test_an_oversized_proof_is_refused_before_parsing() -> None:
    proof = KEY.proof("GET", URL, TOKEN, pad="x" * MAX_PROOF_LENGTH)
    refused(proof, "dpop_oversized")


@pytest.mark.parametrize(
    "proof", ["", "a.b", "a.b.c.d", "a!.b.c", "e30.e30.", "bm90anNvbg.e30.c2ln", "W10.e30.c2ln"]
)
def test_malformed_serialisations_are_refused(proof: str) -> None:
    refused(proof, "dpop_malformed")


def test_duplicate_header_members_are_refused() -> None:
    header = json.dumps(KEY.header())[:-1] + ', "typ": "dpop+jwt"}'
    segment = base64.urlsafe_b64encode(header.encode()).rstrip(b"=").decode()
    valid = KEY.proof("GET", URL, TOKEN)
    refused(segment + valid[valid.index(".") :], "dpop_malformed")


def test_duplicate_claims_are_refused() -> None:
    claims = json.dumps(KEY.claims("GET", URL, TOKEN))[:-1] + ', "htm": "GET"}'
    refused(KEY.sign_raw(KEY.header(), claims), "dpop_malformed")


@pytest.mark.parametrize("typ", [None, "JWT", "DPOP+JWT", "dpop+jwt ", "at+jwt", 1])
def test_a_wrong_typ_is_refused(typ: object) -> None:
    header = KEY.header(typ=typ)
    if typ is None:
        del header["typ"]
    refused(KEY.sign_raw(header, KEY.claims("GET", URL, TOKEN)), "dpop_bad_typ")


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "RS512", "ES512", "PS384", "", None])
def test_an_algorithm_outside_the_list_is_refused(alg: object) -> None:
    header = KEY.header(alg=alg)
    refused(KEY.sign_raw(header, KEY.claims("GET", URL, TOKEN)), "dpop_bad_alg")


def test_alg_none_without_signature_is_refused() -> None:
    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    proof = f"{b64(KEY.header(alg='none'))}.{b64(KEY.claims('GET', URL, TOKEN))}."
    with pytest.raises(DpopProofError) as caught:
        verify(proof)
    assert caught.value.reason in ("dpop_malformed", "dpop_bad_alg")


def test_a_hs256_proof_keyed_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: an HMAC over the public key's JSON as the shared secret."""
    proof = jwt.encode(
        KEY.claims("GET", URL, TOKEN),
        json.dumps(KEY.jwk).encode() * 2,
        algorithm="HS256",
        headers={"typ": "dpop+jwt", "jwk": KEY.jwk},
    )
    refused(proof, "dpop_bad_alg")


def test_crit_is_refused() -> None:
    header = KEY.header(crit=["exp"])
    refused(KEY.sign_raw(header, KEY.claims("GET", URL, TOKEN)), "dpop_unsupported_crit")


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "k", "oth"])
def test_a_jwk_with_private_members_is_refused(member: str) -> None:
    jwk = dict(KEY.jwk, **{member: "AQAB"})
    refused(KEY.sign_raw(KEY.header(jwk=jwk), KEY.claims("GET", URL, TOKEN)), "dpop_bad_key")


def test_a_real_private_jwk_is_refused() -> None:
    private = jwt.algorithms.ECAlgorithm.to_jwk(KEY.private_key, as_dict=True)
    refused(KEY.sign_raw(KEY.header(jwk=private), KEY.claims("GET", URL, TOKEN)), "dpop_bad_key")


@pytest.mark.parametrize(
    ("alg", "other"),
    [("ES256", "ES384"), ("ES256", "RS256"), ("RS256", "EdDSA"), ("EdDSA", "ES256")],
)
def test_a_jwk_that_does_not_fit_the_algorithm_is_refused(alg: str, other: str) -> None:
    key, foreign = DpopKey(alg), DpopKey(other)
    header = key.header(jwk=foreign.jwk)
    refused(key.sign_raw(header, key.claims("GET", URL, TOKEN)), "dpop_bad_key")


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        "a key",
        {},
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-256"},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        dict(KEY.jwk, crv=["P-256"]),
        dict(KEY.jwk, crv={"P-256": 1}),
        {"kty": ["EC"], "crv": "P-256"},
    ],
)
def test_a_jwk_that_is_no_usable_public_key_is_refused(jwk: object) -> None:
    refused(KEY.sign_raw(KEY.header(jwk=jwk), KEY.claims("GET", URL, TOKEN)), "dpop_bad_key")


def test_a_jwk_with_another_alg_or_use_is_refused() -> None:
    for extra in ({"alg": "ES384"}, {"use": "enc"}):
        header = KEY.header(jwk=dict(KEY.jwk, **extra))
        refused(KEY.sign_raw(header, KEY.claims("GET", URL, TOKEN)), "dpop_bad_key")


def test_a_short_rsa_key_is_refused() -> None:
    key = DpopKey("RS256", rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 - the point
    refused(key.sign_raw(key.header(), key.claims("GET", URL, TOKEN)), "dpop_bad_key")


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused() -> None:
    other = DpopKey("ES256")
    proof = other.sign_raw(KEY.header(), KEY.claims("GET", URL, TOKEN))
    refused(proof, "dpop_bad_signature")


def test_a_tampered_payload_is_refused() -> None:
    proof = KEY.proof("GET", URL, TOKEN)
    head, _, signature = proof.split(".")
    forged = KEY.sign_raw(KEY.header(), KEY.claims("POST", URL, TOKEN)).split(".")[1]
    refused(f"{head}.{forged}.{signature}", "dpop_bad_signature")


# --- claims -------------------------------------------------------------------------------


@pytest.mark.parametrize("jti", [None, "", 7, ["a"], "j" * (MAX_JTI_LENGTH + 1)])
def test_a_missing_empty_or_extra_long_jti_is_refused(jti: object) -> None:
    claims = KEY.claims("GET", URL, TOKEN, jti=jti)
    if jti is None:
        del claims["jti"]
    refused(KEY.sign_raw(KEY.header(), claims), "dpop_bad_jti")


def test_the_longest_jti_is_accepted() -> None:
    assert verify(KEY.proof("GET", URL, TOKEN, jti="j" * MAX_JTI_LENGTH))


@pytest.mark.parametrize("htm", ["POST", "get", "", None])
def test_htm_of_another_method_is_refused(htm: object) -> None:
    refused(KEY.proof("GET", URL, TOKEN, htm=htm), "dpop_wrong_method")


@pytest.mark.parametrize(
    "htu",
    [
        "https://evil.example.com/v1/api/automate",
        "http://api.example.com/v1/api/automate",
        "https://api.example.com/v1/api/automate/",
        "https://api.example.com/v1/api/Automate",
        "https://api.example.com/api/automate",
        "https://api.example.com:8443/v1/api/automate",
        "https://user@api.example.com/v1/api/automate",
        "https://api.example.com:99999/v1/api/automate",
        "/v1/api/automate",
        "ftp://api.example.com/v1/api/automate",
        "",
        None,
    ],
)
def test_htu_of_another_host_scheme_port_or_path_is_refused(htu: object) -> None:
    refused(KEY.proof("GET", URL, TOKEN, htu=htu), "dpop_wrong_url")


@pytest.mark.parametrize(
    "htu",
    [
        URL,
        "HTTPS://API.Example.COM/v1/api/automate",
        "https://api.example.com:443/v1/api/automate",
        "https://api.example.com/v1/api/automate?x=1",
        "https://api.example.com/v1/api/automate#top",
    ],
)
def test_htu_normalisation_accepts_equivalent_urls(htu: str) -> None:
    assert verify(KEY.proof("GET", URL, TOKEN, htu=htu))


def test_a_request_with_a_query_matches_a_proof_for_its_path() -> None:
    assert verify(KEY.proof("GET", URL, TOKEN), url=URL + "?limit=5")


def test_same_url_rules() -> None:
    assert same_url("http://127.0.0.1:80/x", "http://127.0.0.1/x")
    assert not same_url("http://127.0.0.1:3000/x", "http://127.0.0.1/x")
    assert same_url("https://h", "https://h/")
    assert not same_url("https://h/a%2Fb", "https://h/a/b")  # the path is compared exactly


def test_an_old_proof_is_stale() -> None:
    refused(KEY.proof("GET", URL, TOKEN, iat=NOW - 300.5), "dpop_stale")
    assert verify(KEY.proof("GET", URL, TOKEN, iat=NOW - 300))


def test_a_proof_from_the_future_beyond_the_skew_is_refused() -> None:
    refused(KEY.proof("GET", URL, TOKEN, iat=NOW + 60.5), "dpop_future")
    assert verify(KEY.proof("GET", URL, TOKEN, iat=NOW + 60))


@pytest.mark.parametrize(
    "iat",
    [
        None, "1700000000", True, [1], 1e400,
        pytest.param(10**400, id="int-beyond-float"),
        pytest.param(-(10**400), id="negative-int-beyond-float"),
    ],
)  # fmt: skip
def test_an_iat_that_is_not_a_number_is_refused(iat: object) -> None:
    claims = KEY.claims("GET", URL, TOKEN, iat=iat)
    if iat is None:
        del claims["iat"]
    body = json.dumps(claims).replace('"iat": Infinity', '"iat": 1e400')
    refused(KEY.sign_raw(KEY.header(), body), "dpop_bad_iat")


def test_a_float_iat_is_accepted() -> None:
    assert verify(KEY.proof("GET", URL, TOKEN, iat=NOW - 0.5))


@pytest.mark.parametrize("ath", [None, "", access_token_hash("another.token.here"), 5])
def test_a_missing_or_wrong_ath_is_refused(ath: object) -> None:
    claims = KEY.claims("GET", URL, TOKEN, ath=ath)
    if ath is None:
        del claims["ath"]
    refused(KEY.sign_raw(KEY.header(), claims), "dpop_bad_ath")


# --- thumbprint -----------------------------------------------------------------------------


def test_the_rfc7638_example_thumbprint() -> None:
    """RFC 7638 section 3.1's RSA key and its SHA-256 thumbprint."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
        "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65"
        "YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDK"
        "gw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_thumbprint_ignores_optional_members() -> None:
    assert thumbprint(dict(KEY.jwk, kid="k1", use="sig")) == KEY.jkt


# --- any mutation is refused ----------------------------------------------------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=40),
    st.lists(st.text(max_size=5), max_size=2),
)
_HEADER_NAMES = st.sampled_from(["typ", "alg", "jwk", "crit", "kid", "b64"])
_CLAIM_NAMES = st.sampled_from(["htm", "htu", "ath", "jti", "iat"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_HEADER_NAMES, value=_VALUES, drop=st.booleans())
def test_any_header_mutation_is_refused(name: str, value: object, drop: bool) -> None:
    header = KEY.header()
    original = dict(header)
    if drop:
        header.pop(name, None)
    else:
        header[name] = value
    if header == original or (name == "kid" and isinstance(value, str)):
        return  # unchanged, or a `kid` hint, which RFC 9449 leaves free
    with pytest.raises(DpopProofError):
        verify(KEY.sign_raw(header, KEY.claims("GET", URL, TOKEN)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_CLAIM_NAMES, value=_VALUES, drop=st.booleans())
def test_any_claim_mutation_is_refused(name: str, value: object, drop: bool) -> None:
    claims = KEY.claims("GET", URL, TOKEN, iat=int(NOW))
    original = dict(claims)
    if drop:
        claims.pop(name)
    else:
        claims[name] = value
    allowed = name == "jti" and isinstance(value, str) and 1 <= len(value) <= MAX_JTI_LENGTH
    allowed |= (
        name == "iat"
        and isinstance(value, int)
        and not isinstance(value, bool)
        and -300 <= value - NOW <= 60
    )
    if claims == original or allowed:
        return
    with pytest.raises(DpopProofError):
        verify(KEY.sign_raw(KEY.header(), claims))


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=0), char=st.sampled_from("AQgw_-"))
def test_any_changed_character_is_refused(position: int, char: str) -> None:
    proof = KEY.proof("GET", URL, TOKEN, jti="fixed", iat=int(NOW))
    index = position % len(proof)
    if proof[index] in (".", char):
        return
    mutated = proof[:index] + char + proof[index + 1 :]
    try:
        verified = verify(mutated)
    except DpopProofError:
        return
    # A base64url character whose low bits are padding decodes to the same bytes.
    assert verified.jti == "fixed"
    assert verified.jkt == KEY.jkt
