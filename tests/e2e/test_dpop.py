"""DPoP (RFC 9449) over real HTTP through the local run, one run per mode (`optional`,
`required`): tokens bound by the token service and by oidc-provider, fresh proofs accepted,
replays and stolen tokens refused, the mode's identity sources and caching as deployed.

Proofs are made by `wfctl`'s helper (PyJWT signing) exactly as RFC 9449 section 4 describes
them; nothing here knows how the authorizer verifies them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from shared.scopes import READ
from tests.e2e.conftest import LocalRun, start_local_run, stop
from wfctl import clients
from wfctl.dpop import DpopKey

SERVICE_ROUTE = "/api/automate"  # internal service tokens
OAUTH_ROUTE = "/api/secure-automate"  # the OAuth provider's tokens


def _run(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[LocalRun]:
    run = start_local_run(tmp_path_factory.mktemp(f"dpop-{mode}"), ["--dpop-mode", mode])
    try:
        yield run
    finally:
        stop(run.process)


@pytest.fixture(scope="module")
def optional_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    yield from _run(tmp_path_factory, "optional")


@pytest.fixture(scope="module")
def required_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    yield from _run(tmp_path_factory, "required")


@pytest.fixture(params=["optional", "required"])
def run(request: pytest.FixtureRequest) -> LocalRun:
    chosen: LocalRun = request.getfixturevalue(f"{request.param}_run")
    return chosen


def new_key() -> DpopKey:
    return DpopKey(ec.generate_private_key(ec.SECP256R1()), "ES256")


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def bound_service_token(run: LocalRun, key: DpopKey) -> str:
    """A token-service token bound to `key`, requested the way `wfctl token --dpop-key` does."""
    client_id, secret = run.client(READ, subject="e2e-dpop")
    answer = clients.request_token(run.state["token_endpoint"], client_id, secret, (), key)
    assert answer["token_type"] == "DPoP"
    token = str(answer["access_token"])
    assert claims_of(token)["cnf"] == {"jkt": key.thumbprint}
    return token


def bound_oauth_token(run: LocalRun, key: DpopKey) -> str:
    """An oidc-provider token requested with a DPoP header (RFC 9449 section 5)."""
    oauth = run.oauth
    client = oauth["clients"][0]
    response = requests.post(
        oauth["token_endpoint"],
        auth=(client["client_id"], client["client_secret"]),
        data={"grant_type": "client_credentials", "scope": client["scope"]},
        headers={"DPoP": key.proof("POST", oauth["token_endpoint"])},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["token_type"] == "DPoP"
    token = str(answer["access_token"])
    assert claims_of(token)["cnf"] == {"jkt": key.thumbprint}
    return token


def dpop_call(
    run: LocalRun,
    path: str,
    token: str,
    key: DpopKey | None,
    *,
    method: str = "GET",
    proof_method: str | None = None,
    proof_url: str | None = None,
) -> requests.Response:
    """`Authorization: DPoP <token>` with a fresh proof by `key` (none when key is None)."""
    headers = {"Authorization": f"DPoP {token}"}
    if key is not None:
        url = proof_url or f"{run.base}{path}"
        headers["DPoP"] = key.proof(proof_method or method, url, token)
    return requests.request(method, f"{run.base}{path}", headers=headers, timeout=30)


def raw_request(run: LocalRun, request: bytes) -> int:
    """Send these exact bytes on a new connection; the answer's status code."""
    address = urlsplit(run.base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


# -- issuance --------------------------------------------------------------------------------


def test_oidc_provider_binds_a_token_requested_with_a_proof(run: LocalRun) -> None:
    key = new_key()
    token = bound_oauth_token(run, key)
    assert claims_of(token)["aud"] == run.oauth["audience"]


def test_oidc_provider_refuses_a_token_request_with_a_replayed_proof(run: LocalRun) -> None:
    oauth = run.oauth
    client = oauth["clients"][0]
    proof = new_key().proof("POST", oauth["token_endpoint"])

    def ask() -> requests.Response:
        return requests.post(
            oauth["token_endpoint"],
            auth=(client["client_id"], client["client_secret"]),
            data={"grant_type": "client_credentials", "scope": client["scope"]},
            headers={"DPoP": proof},
            timeout=10,
        )

    assert ask().status_code == 200
    refused = ask()
    assert refused.status_code == 400
    assert "access_token" not in refused.json()


def test_token_service_binds_a_token_requested_with_a_proof(run: LocalRun) -> None:
    key = new_key()
    claims = claims_of(bound_service_token(run, key))
    assert claims["scope"] == READ


def test_token_service_refuses_an_invalid_proof(run: LocalRun) -> None:
    client_id, secret = run.client(READ, subject="e2e-dpop")
    wrong_url = f"{run.base}/not/the/token/endpoint"
    response = requests.post(
        run.state["token_endpoint"],
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        headers={"DPoP": new_key().proof("POST", wrong_url)},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"


# -- bound tokens with fresh proofs ----------------------------------------------------------


def test_bound_service_token_is_accepted_with_fresh_proofs(run: LocalRun) -> None:
    key = new_key()
    token = bound_service_token(run, key)
    for _ in range(2):  # a fresh proof each time: both accepted
        response = dpop_call(run, SERVICE_ROUTE, token, key)
        assert response.status_code == 200, response.text


def test_bound_oauth_token_is_accepted_with_fresh_proofs(run: LocalRun) -> None:
    key = new_key()
    token = bound_oauth_token(run, key)
    for _ in range(2):
        response = dpop_call(run, OAUTH_ROUTE, token, key)
        assert response.status_code == 200, response.text


def test_a_query_string_does_not_change_the_proof_url(run: LocalRun) -> None:
    """RFC 9449 section 4.3: htu is compared without the query."""
    key = new_key()
    token = bound_service_token(run, key)
    response = dpop_call(
        run, f"{SERVICE_ROUTE}?page=2", token, key, proof_url=f"{run.base}{SERVICE_ROUTE}"
    )
    assert response.status_code == 200, response.text


# -- replay and theft ------------------------------------------------------------------------


@pytest.mark.parametrize("issuer", ["token-service", "oidc-provider"])
def test_the_same_request_replayed_byte_for_byte_is_refused(run: LocalRun, issuer: str) -> None:
    key = new_key()
    path = SERVICE_ROUTE if issuer == "token-service" else OAUTH_ROUTE
    token = (
        bound_service_token(run, key) if issuer == "token-service" else bound_oauth_token(run, key)
    )
    host = urlsplit(run.base).netloc
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: DPoP {token}\r\n"
        f"DPoP: {key.proof('GET', run.base + path, token)}\r\nConnection: close\r\n\r\n"
    ).encode()

    assert raw_request(run, request) == 200
    assert raw_request(run, request) == 401  # the proof's jti was already used
    assert dpop_call(run, path, token, key).status_code == 200  # a fresh proof still works


def test_a_stolen_token_is_refused_in_every_presentation(run: LocalRun) -> None:
    token = bound_service_token(run, new_key())
    thief = new_key()

    as_bearer = run.call("GET", SERVICE_ROUTE, bearer=token)
    with_own_key = dpop_call(run, SERVICE_ROUTE, token, thief)
    without_proof = dpop_call(run, SERVICE_ROUTE, token, None)

    assert [as_bearer.status_code, with_own_key.status_code, without_proof.status_code] == [
        401,
        401,
        401,
    ]
    assert as_bearer.json() == {"error": "unauthorized", "message": "Unauthorized."}


def test_a_stolen_oauth_token_is_refused_in_every_presentation(run: LocalRun) -> None:
    token = bound_oauth_token(run, new_key())
    assert run.call("GET", OAUTH_ROUTE, bearer=token).status_code == 401
    assert dpop_call(run, OAUTH_ROUTE, token, new_key()).status_code == 401
    assert dpop_call(run, OAUTH_ROUTE, token, None).status_code == 401


@pytest.mark.parametrize(
    ("proof_method", "proof_path", "proof_host"),
    [
        ("POST", SERVICE_ROUTE, None),  # another method
        ("GET", "/api/trigger", None),  # another path
        ("GET", SERVICE_ROUTE, "api.example.com"),  # another host
    ],
)
def test_a_proof_for_another_request_is_refused(
    run: LocalRun,
    proof_method: str,
    proof_path: str,
    proof_host: str | None,
) -> None:
    key = new_key()
    token = bound_service_token(run, key)
    base = f"http://{proof_host}" if proof_host else run.base
    response = dpop_call(
        run, SERVICE_ROUTE, token, key, proof_method=proof_method, proof_url=base + proof_path
    )
    assert response.status_code == 401


# -- the modes -------------------------------------------------------------------------------


def test_optional_mode_keeps_plain_bearer_tokens_working_without_caching(
    optional_run: LocalRun,
) -> None:
    """Bearer still works, but every request invokes the authorizer (result TTL 0)."""
    assert optional_run.state["bearer_identity_headers"] == ["Authorization"]
    token = optional_run.service_token(READ)
    before = optional_run.invocations()
    for _ in range(3):
        assert optional_run.call("GET", SERVICE_ROUTE, bearer=token).status_code == 200
    assert optional_run.invocations() - before == 3


def test_optional_mode_refuses_a_bound_token_sent_as_bearer(optional_run: LocalRun) -> None:
    key = new_key()
    token = bound_service_token(optional_run, key)
    assert optional_run.call("GET", SERVICE_ROUTE, bearer=token).status_code == 401
    assert dpop_call(optional_run, SERVICE_ROUTE, token, key).status_code == 200


def test_required_mode_refuses_a_request_without_a_proof_at_the_gateway(
    required_run: LocalRun,
) -> None:
    """The identity sources are Authorization and DPoP: no DPoP header, no authorizer call."""
    assert required_run.state["bearer_identity_headers"] == ["Authorization", "DPoP"]
    token = required_run.oauth_token()  # an unbound token (the token service issues none here)
    before = required_run.invocations()
    response = required_run.call("GET", SERVICE_ROUTE, bearer=token)
    assert response.status_code == 401
    assert required_run.invocations() == before


def test_required_mode_refuses_plain_bearer_tokens(required_run: LocalRun) -> None:
    token = required_run.oauth_token()  # unbound: requested from the provider without a proof
    # Even with a proof beside it: the bearer scheme itself is refused.
    proof = new_key().proof("GET", required_run.base + SERVICE_ROUTE, token)
    response = required_run.call("GET", SERVICE_ROUTE, bearer=token, headers={"DPoP": proof})
    assert response.status_code == 401


def test_required_mode_token_service_issues_no_bearer_token(required_run: LocalRun) -> None:
    """A bearer token would be refused on every route: the token endpoint says so at once."""
    client_id, secret = required_run.client(READ)
    response = requests.post(
        required_run.state["token_endpoint"],
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"
    assert "access_token" not in response.text
