"""Every failure class refused: try to break each rule of token and header verification."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authorizer.authorize import Authorizer
from shared import AuthorizerSettings
from tests.helpers import authorizer_event
from tests.integration.authorizer.conftest import (
    JWT_AUDIENCE,
    JWT_ISSUER,
    OAUTH_AUDIENCE,
    JwksServer,
    OAuthKey,
)
from tests.integration.authorizer.support import assert_unauthorized, bearer

Mint = Callable[..., str]


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def automate(token: str) -> dict[str, Any]:
    return bearer("GET", "/api/automate", token)


def secure(token: str) -> dict[str, Any]:
    return bearer("GET", "/api/secure-automate", token)


# --- algorithms and signatures ----------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "c2ln"])
def test_alg_none_in_any_case(authz: Authorizer, alg: str, signature: str) -> None:
    now = int(time.time())
    claims = {"sub": "x", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": now, "exp": now + 60}
    token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}.{signature}"
    assert_unauthorized(authz, automate(token))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithms(authz: Authorizer, aws: Any, alg: str) -> None:
    now = int(time.time())
    claims = {"sub": "x", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": now, "exp": now + 60}
    token = jwt.encode(claims, aws.signing_keys["k1"], algorithm=alg, headers={"kid": "k1"})
    assert_unauthorized(authz, automate(token))


def _public_pem(key: OAuthKey) -> bytes:
    return key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("claim_oauth_issuer", [True, False])
def test_hs256_signed_with_the_oauth_public_key(
    authz: Authorizer, oauth_keys: dict[str, OAuthKey], jwks_server: JwksServer,
    claim_oauth_issuer: bool,
) -> None:  # fmt: skip
    """Key confusion: the public key (which anyone can fetch) used as an HMAC secret."""
    key = oauth_keys["RS256"]
    now = int(time.time())
    claims = {
        "sub": "attacker", "iss": jwks_server.base if claim_oauth_issuer else JWT_ISSUER,
        "aud": OAUTH_AUDIENCE if claim_oauth_issuer else JWT_AUDIENCE,
        "iat": now, "exp": now + 60, "scope": "workflow:admin",
    }  # fmt: skip
    for secret in (_public_pem(key), json.dumps(key.jwk).encode()):
        # PyJWT refuses to HMAC with a PEM key, so sign by hand as an attacker would.
        header = b64({"alg": "HS256", "kid": key.kid, "typ": "JWT"})
        signing_input = f"{header}.{b64(claims)}".encode()
        import hashlib  # noqa: PLC0415
        import hmac  # noqa: PLC0415

        sig = b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
        token = f"{signing_input.decode()}.{sig}"
        assert_unauthorized(authz, secure(token))
        assert_unauthorized(authz, automate(token))


@pytest.mark.parametrize(
    ("token_alg", "key_alg"),
    [("ES256", "RS256"), ("RS256", "ES256"), ("ES384", "ES256"), ("EdDSA", "ES256"),
     ("PS256", "RS256"), ("RS384", "RS256")],
)  # fmt: skip
def test_algorithm_that_the_key_does_not_fit(
    authz: Authorizer, oauth_token: Mint, oauth_keys: dict[str, OAuthKey],
    token_alg: str, key_alg: str,
) -> None:  # fmt: skip
    """A token signed with algorithm X that names the kid of a key meant for algorithm Y."""
    token = oauth_token(token_alg, kid=oauth_keys[key_alg].kid)
    assert_unauthorized(authz, secure(token))


def test_key_without_alg_still_needs_a_fitting_kty(
    authz: Authorizer, oauth_token: Mint, oauth_keys: dict[str, OAuthKey], jwks_server: JwksServer
) -> None:
    jwks_server.keys = [
        {k: v for k, v in key.jwk.items() if k != "alg"} for key in oauth_keys.values()
    ]
    assert authz.handle(secure(oauth_token("PS256", kid=oauth_keys["RS256"].kid)))  # RSA fits
    assert_unauthorized(authz, secure(oauth_token("ES256", kid=oauth_keys["RS256"].kid)))


def test_encryption_key_is_never_used_for_signatures(
    authz: Authorizer, oauth_token: Mint, oauth_keys: dict[str, OAuthKey], jwks_server: JwksServer
) -> None:
    jwks_server.keys = [{**key.jwk, "use": "enc"} for key in oauth_keys.values()]
    assert_unauthorized(authz, secure(oauth_token("RS256")))


def test_rs256_token_not_claiming_the_oauth_issuer(authz: Authorizer, oauth_token: Mint) -> None:
    assert_unauthorized(authz, automate(oauth_token("RS256", iss=JWT_ISSUER, aud=JWT_AUDIENCE)))


def test_tampered_payload(authz: Authorizer, service_token: Mint, oauth_token: Mint) -> None:
    for token, event in ((service_token(), automate), (oauth_token(), secure)):
        header, payload, sig = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
        claims["scope"] = "workflow:admin"
        assert_unauthorized(authz, event(f"{header}.{b64(claims)}.{sig}"))


def test_forged_signature_with_another_key(authz: Authorizer, service_token: Mint) -> None:
    assert_unauthorized(authz, automate(service_token(key="x" * 64)))
    assert_unauthorized(authz, automate(service_token(kid=None, key="x" * 64)))


def test_embedded_key_headers_are_never_used(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer
) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    for kid in ("kid-rs256", "attacker-kid"):
        headers = {"jwk": {**jwk, "kid": kid}, "jku": "http://127.0.0.1:1/jwks",
                   "x5u": "http://127.0.0.1:1/cert", "x5c": ["MIIB"]}  # fmt: skip
        token = oauth_token("RS256", kid=kid, key=attacker, headers=headers)
        assert_unauthorized(authz, secure(token))
    assert set(jwks_server.hits) <= {"/.well-known/openid-configuration", "/jwks"}


# --- claims and the clock -----------------------------------------------------------------------

SKEW = 60


@pytest.mark.parametrize(
    ("claims", "ok"),
    [
        ({"exp": -(SKEW - 5)}, True),
        ({"exp": -(SKEW + 5)}, False),
        ({"nbf": SKEW - 5}, True),
        ({"nbf": SKEW + 5}, False),
        ({"iat": SKEW - 5, "exp": SKEW + 100}, True),
        ({"iat": SKEW + 5, "exp": SKEW + 100}, False),
    ],
)
def test_time_claims_at_the_skew_boundaries(
    authz: Authorizer, service_token: Mint, oauth_token: Mint, claims: dict[str, int], ok: bool
) -> None:
    now = int(time.time())
    relative = {name: now + offset for name, offset in claims.items()}
    if "iat" not in relative:
        relative["iat"] = now - 120
    for token, event in (
        (service_token(**relative), automate),
        (oauth_token(**relative), secure),
    ):
        if ok:
            assert authz.handle(event(token))["principalId"]
        else:
            assert_unauthorized(authz, event(token))


@pytest.mark.parametrize(("lifetime", "ok"), [(3600, True), (3601, False), (86400 * 365, False)])
def test_service_token_lifetime(
    authz: Authorizer, service_token: Mint, lifetime: int, ok: bool
) -> None:
    now = int(time.time())
    token = service_token(iat=now - 10, exp=now - 10 + lifetime)
    if ok:
        assert authz.handle(automate(token))
    else:
        assert_unauthorized(authz, automate(token))


def test_float_numeric_dates_are_accepted(authz: Authorizer, service_token: Mint) -> None:
    now = time.time()
    assert authz.handle(automate(service_token(iat=now - 0.5, exp=now + 30.25)))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "9999999999"}, {"exp": True}, {"iat": None, "exp": None}, {"exp": None},
        {"iat": None}, {"sub": None}, {"sub": 42}, {"sub": ""}, {"iat": "now"},
        {"nbf": [1]}, {"exp": 1e400}, {"exp": 10**400}, {"iat": -(10**400)},
    ],
)  # fmt: skip
def test_missing_or_mistyped_required_claims(
    authz: Authorizer, service_token: Mint, claims: dict[str, Any]
) -> None:
    try:
        token = service_token(**claims)
    except (OverflowError, ValueError, TypeError):
        pytest.skip("PyJWT will not even encode this")
    assert_unauthorized(authz, automate(token))


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example"}, {"iss": None}, {"aud": "other-api"}, {"aud": None},
        {"aud": ["other", "another"]}, {"scope": ["workflow:read"]}, {"scp": 7},
    ],
)  # fmt: skip
def test_wrong_or_missing_issuer_audience_and_bad_scope_types(
    authz: Authorizer, service_token: Mint, oauth_token: Mint, claims: dict[str, Any]
) -> None:
    assert_unauthorized(authz, automate(service_token(**claims)))
    if "iss" not in claims:  # another issuer sends an OAuth token down the service path
        assert_unauthorized(authz, secure(oauth_token(**claims)))


def test_oauth_wrong_issuer_variants(
    authz: Authorizer, oauth_token: Mint, jwks_server: JwksServer
) -> None:
    for iss in (jwks_server.base + "/", jwks_server.base.upper(), None):
        assert_unauthorized(authz, secure(oauth_token(iss=iss)))


def test_audience_list_containing_ours_is_accepted(authz: Authorizer, service_token: Mint) -> None:
    assert authz.handle(automate(service_token(aud=["other", JWT_AUDIENCE])))


def test_unset_issuer_and_audience_are_not_checked(
    make_authorizer: Callable[..., Authorizer], settings: AuthorizerSettings, service_token: Mint
) -> None:
    lax = make_authorizer(settings, jwt_issuer=None, jwt_audience=None)
    assert lax.handle(automate(service_token(iss=None, aud=None)))
    assert lax.handle(automate(service_token(iss="anyone", aud="anything")))


def test_duplicate_members_resolve_last_wins(authz: Authorizer, aws: Any) -> None:
    """RFC 7519 section 4: never first-wins. The last `sub` and `scope` are the ones used."""
    now = int(time.time())
    header = b64({"alg": "HS256", "kid": "k1", "typ": "JWT"})
    payload = (
        f'{{"sub":"first","sub":"last","iss":"{JWT_ISSUER}","aud":"{JWT_AUDIENCE}",'
        f'"iat":{now},"exp":{now + 60},"scope":"workflow:admin","scope":"workflow:read"}}'
    )
    signing_input = f"{header}.{b64(payload.encode())}"
    import hashlib  # noqa: PLC0415
    import hmac  # noqa: PLC0415

    sig = hmac.new(aws.signing_keys["k1"].encode(), signing_input.encode(), hashlib.sha256).digest()
    policy = authz.handle(automate(f"{signing_input}.{b64(sig)}"))
    assert policy["principalId"] == "last"
    assert policy["context"]["scopes"] == "workflow:read"


# --- shape, size, headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "", "abc", "a.b", "a.b.c.d", "a..c", "!!!.@@@.###", "eyJhbGciOiJIUzI1NiJ9.e30.",
        f"{b64(b'not json')}.{b64({})}.c2ln", f"{b64([1, 2])}.{b64({})}.c2ln",
        f"{b64({'alg': 'HS256'})}.{b64(b'[]')}.c2ln", f"{b64({'alg': 'HS256'})}.{b64(b'{')}.c2ln",
        f"{b64({'alg': 'HS256', 'kid': 5})}.{b64({})}.c2ln",
        f"{b64({'alg': 'HS256'})}.{b64({})}.c2ln=", "e30=.e30=.c2ln",
        f"{b64({'alg': 'HS256'})}.{b64(b'{' * 5000 + b'}' * 5000)}.c2ln",
    ],
)  # fmt: skip
def test_malformed_tokens(authz: Authorizer, token: str) -> None:
    assert_unauthorized(authz, automate(token))


def test_oversized_token(authz: Authorizer, service_token: Mint) -> None:
    token = service_token(padding="x" * 9000)
    assert len(token) > 8192
    assert_unauthorized(authz, automate(token))


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "exp", ["x-custom"]])
def test_crit_header_refused(authz: Authorizer, service_token: Mint, crit: Any) -> None:
    assert_unauthorized(authz, automate(service_token(headers={"crit": crit})))


@pytest.mark.parametrize(
    "value",
    ["{token}", "Bearer  {token}", "Bearer\t{token}", "Basic {token}", "Bearer {token} extra",
     "Bearer", "Bearer ", " Bearer {token}", "Token {token}"],
)  # fmt: skip
def test_bearer_syntax(authz: Authorizer, service_token: Mint, value: str) -> None:
    event = authorizer_event(
        "GET", "/api/automate", {"Authorization": value.format(token=service_token())}
    )
    assert_unauthorized(authz, event)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_bearer_is_case_insensitive(authz: Authorizer, service_token: Mint, scheme: str) -> None:
    event = authorizer_event(
        "GET", "/api/automate", {"authorization": f"{scheme} {service_token()}"}
    )
    assert authz.handle(event)["principalId"] == "svc-payments"


def test_more_than_one_authorization_value(authz: Authorizer, service_token: Mint) -> None:
    value = f"Bearer {service_token()}"
    multi = authorizer_event("GET", "/api/automate", {"Authorization": value},
                             multi={"Authorization": [value, value]})  # fmt: skip
    assert_unauthorized(authz, multi)
    two_cases = authorizer_event(
        "GET", "/api/automate", {"Authorization": value, "authorization": value}
    )
    assert_unauthorized(authz, two_cases)
    disagreeing = authorizer_event("GET", "/api/automate", {"Authorization": value},
                                   multi={"Authorization": ["Bearer other"]})  # fmt: skip
    assert_unauthorized(authz, disagreeing)


def test_each_authorizer_reads_only_its_own_header(authz: Authorizer, service_token: Mint) -> None:
    token = f"Bearer {service_token()}"
    assert_unauthorized(authz, authorizer_event("GET", "/api/internal", {"Authorization": token}))
    key = "wfk_" + "a" * 16 + "_" + "b" * 43
    assert_unauthorized(authz, authorizer_event("GET", "/api/automate", {"X-Api-Key": key}))


@pytest.mark.parametrize(
    "arn",
    [
        None, 5, "", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/nope",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/PATCH/api/automate",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/automate/extra",
        "arn:aws:execute-api:us-east-1:1234:a1b2c3d4e5/v1/GET/api/automate",
        "arn:aws:lambda:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/automate",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/*",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/*/api/automate",
    ],
)  # fmt: skip
def test_method_arn_that_matches_no_route(authz: Authorizer, service_token: Mint, arn: Any) -> None:
    event = automate(service_token())
    event["methodArn"] = arn
    assert_unauthorized(authz, event)


@pytest.mark.parametrize("event", [None, [], "x", {}, {"methodArn": None}, {"headers": "x"}])
def test_malformed_events(authz: Authorizer, event: Any) -> None:
    assert_unauthorized(authz, event)


def test_missing_credential(authz: Authorizer) -> None:
    assert_unauthorized(authz, authorizer_event("GET", "/api/automate"))
    assert_unauthorized(authz, authorizer_event("GET", "/api/internal"))
