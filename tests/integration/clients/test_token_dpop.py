"""DPoP at the token endpoint (RFC 9449 section 5) through its handler against moto: a valid
proof binds the token (`cnf.jkt`, `token_type: DPoP`) and the real authorizer then accepts it
only with fresh proofs of that key; an invalid, repeated or replayed proof is
`invalid_dpop_proof`; the modes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import jwt
import pytest

from authorizer.authorize import Authorizer
from authorizer.guard import Guard
from shared import clients
from shared.secret_formats import parse_signing_secret
from shared.settings import DpopMode, DpopSettings, SecuritySettings
from tests.dpop_keys import DpopKey
from tests.helpers import authorizer_event, load_event
from tests.integration.clients.support import (
    AUDIENCE,
    BASE_URL,
    ISSUER,
    TABLE,
    TOKEN_URL,
    Env,
    assert_refused,
    authorizer_settings,
    basic,
    invoke,
    register,
    request_token,
    token_event,
)
from tests.integration.rotation.support import Clocks, real_authorizer, value_of

LogLines = Any


@pytest.fixture
def mode(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "optional")


@pytest.fixture
def dpop_env(env: Env, mode: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("DPOP_MODE", mode)
    clients.default_service.cache_clear()
    yield env
    clients.default_service.cache_clear()


@pytest.fixture
def secret(dpop_env: Env) -> str:
    record = register(dpop_env.aws, "reports-service", ("workflow:read",))
    assert record.client_secret is not None
    return record.client_secret


def ask(secret: str, *proofs: str, wrong_secret: bool = False) -> Any:
    auth = ("reports-service", "x" * 43 if wrong_secret else secret)
    if len(proofs) <= 1:
        headers = {"DPoP": proofs[0]} if proofs else {}
        return request_token(auth=auth, headers=headers)
    event = token_event(
        {"grant_type": "client_credentials"},
        headers={"Authorization": basic(*auth)},
        multi={"DPoP": list(proofs)},
    )
    return invoke("issue_token", event)


def claims(env: Env, token: str) -> dict[str, Any]:
    key = parse_signing_secret(value_of(env.aws, env.signing_secret_arn, "AWSCURRENT"))
    decoded: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
    )
    return decoded


def authorizer(env: Env) -> Authorizer:
    security = SecuritySettings(table_name=TABLE)
    settings = replace(
        authorizer_settings(),
        security=security,
        dpop=DpopSettings(DpopMode.OPTIONAL),
        public_base_url=BASE_URL,
    )
    built = real_authorizer(env.aws, settings, Clocks())
    built.guard = Guard(security, lambda: boto3.client("dynamodb"))
    built.sender = type(built.sender)(settings, built.guard)
    return built


def call(authz: Authorizer, headers: dict[str, str]) -> str:
    try:
        policy = authz.handle(authorizer_event("GET", "/api/automate", headers))
    except Exception as error:  # the answer is the point
        return str(error)
    return str(policy["principalId"])


def test_a_valid_proof_binds_the_token_and_the_authorizer_demands_its_key(
    dpop_env: Env, secret: str, log_lines: LogLines
) -> None:
    key = DpopKey("ES256")
    answer = ask(secret, key.proof("POST", TOKEN_URL))
    assert answer.status == 200, answer
    assert answer.body["token_type"] == "DPoP"
    token = answer.body["access_token"]
    assert claims(dpop_env, token)["cnf"] == {"jkt": key.jkt}
    issued = [line for line in log_lines() if line.get("decision") == "issued"]
    assert issued[-1]["cnf_jkt"] == key.jkt

    authz = authorizer(dpop_env)
    url = BASE_URL + "/api/automate"
    fresh = {"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url, token)}
    assert call(authz, fresh) == "reports-service"
    assert call(authz, fresh) == "Unauthorized"  # the same proof again
    assert call(authz, {"Authorization": f"Bearer {token}"}) == "Unauthorized"
    stolen = {"Authorization": f"DPoP {token}", "DPoP": DpopKey().proof("GET", url, token)}
    assert call(authz, stolen) == "Unauthorized"
    assert call(authz, {"Authorization": f"DPoP {token}"}) == "Unauthorized"


def test_without_a_proof_the_token_is_a_bearer_token(dpop_env: Env, secret: str) -> None:
    answer = ask(secret)
    assert answer.status == 200
    assert answer.body["token_type"] == "Bearer"
    assert "cnf" not in claims(dpop_env, answer.body["access_token"])


@pytest.mark.parametrize(
    ("method", "url", "extra"),
    [
        ("GET", TOKEN_URL, {}),
        ("POST", BASE_URL + "/api/automate", {}),
        ("POST", "https://evil.example.test/v1/oauth/token", {}),
        ("POST", TOKEN_URL, {"iat": 1}),
        ("POST", TOKEN_URL, {"jti": ""}),
    ],
)
def test_an_invalid_proof_is_invalid_dpop_proof(
    dpop_env: Env, secret: str, method: str, url: str, extra: dict[str, Any]
) -> None:
    answer = ask(secret, DpopKey().proof(method, url, **extra))
    assert_refused(answer, 400, "invalid_dpop_proof")
    assert answer.body["error_description"] == "The DPoP proof is missing, invalid or already used."


@pytest.mark.parametrize("iat", [10**400, -(10**400)], ids=["huge", "huge-negative"])
def test_an_iat_too_large_for_a_float_is_invalid_dpop_proof(
    dpop_env: Env, secret: str, iat: int
) -> None:
    """JSON integers have no bound: one past a float's range must be a refusal, not a 500 that
    anyone can cause before any client authentication."""
    key = DpopKey()
    proof = key.sign_raw(key.header(), key.claims("POST", TOKEN_URL, iat=iat))
    assert_refused(ask(secret, proof, wrong_secret=True), 400, "invalid_dpop_proof")


@pytest.mark.parametrize("crv", [["P-256"], {"P-256": True}], ids=["array", "object"])
def test_a_jwk_curve_that_is_not_a_string_is_invalid_dpop_proof(
    dpop_env: Env, secret: str, crv: object
) -> None:
    """Checked before any client authentication: a refusal, never a 500 anyone can cause."""
    key = DpopKey()
    proof = key.sign_raw(key.header(jwk=dict(key.jwk, crv=crv)), key.claims("POST", TOKEN_URL))
    assert_refused(ask(secret, proof, wrong_secret=True), 400, "invalid_dpop_proof")


@pytest.mark.parametrize("proof", ["not-a-jws", "a.b.c", "x" * 9000])
def test_a_malformed_proof_is_invalid_dpop_proof(dpop_env: Env, secret: str, proof: str) -> None:
    assert_refused(ask(secret, proof), 400, "invalid_dpop_proof")


def test_a_forged_proof_is_invalid_dpop_proof(dpop_env: Env, secret: str) -> None:
    key = DpopKey()
    forged = DpopKey().sign_raw(key.header(), key.claims("POST", TOKEN_URL))
    assert_refused(ask(secret, forged), 400, "invalid_dpop_proof")


def test_two_dpop_headers_are_invalid_dpop_proof(dpop_env: Env, secret: str) -> None:
    key = DpopKey()
    answer = ask(secret, key.proof("POST", TOKEN_URL), key.proof("POST", TOKEN_URL))
    assert_refused(answer, 400, "invalid_dpop_proof")


def test_a_replayed_proof_is_invalid_dpop_proof(
    dpop_env: Env, secret: str, log_lines: LogLines
) -> None:
    proof = DpopKey().proof("POST", TOKEN_URL)
    assert ask(secret, proof).status == 200
    assert_refused(ask(secret, proof), 400, "invalid_dpop_proof")
    refused = [line for line in log_lines() if line.get("decision") == "refused"]
    assert refused[-1]["reason"] == "dpop_replay"


def test_a_failed_client_authentication_does_not_spend_the_proof(
    dpop_env: Env, secret: str
) -> None:
    proof = DpopKey().proof("POST", TOKEN_URL)
    assert_refused(ask(secret, proof, wrong_secret=True), 401, "invalid_client")
    assert ask(secret, proof).status == 200


@pytest.mark.parametrize("mode", ["off"], indirect=True)
def test_with_dpop_off_a_proof_is_ignored(dpop_env: Env, secret: str) -> None:
    answer = ask(secret, DpopKey().proof("POST", TOKEN_URL))
    assert answer.status == 200
    assert answer.body["token_type"] == "Bearer"
    assert "cnf" not in claims(dpop_env, answer.body["access_token"])
    metadata = invoke("get_oauth_metadata", load_event("get_oauth_metadata/metadata.json"))
    assert "dpop_signing_alg_values_supported" not in metadata.body


@pytest.mark.parametrize("mode", ["required"], indirect=True)
def test_with_dpop_required_a_request_without_proof_is_refused(dpop_env: Env, secret: str) -> None:
    assert_refused(ask(secret), 400, "invalid_dpop_proof")
    assert ask(secret, DpopKey().proof("POST", TOKEN_URL)).body["token_type"] == "DPoP"


def test_the_metadata_lists_the_proof_algorithms(dpop_env: Env) -> None:
    answer = invoke("get_oauth_metadata", load_event("get_oauth_metadata/metadata.json"))
    assert answer.body["dpop_signing_alg_values_supported"] == [
        "ES256", "ES384", "RS256", "PS256", "EdDSA",
    ]  # fmt: skip
