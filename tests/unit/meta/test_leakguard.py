"""The leak guard itself must be able to fail, and must be installed for the session."""

from __future__ import annotations

import base64
import contextlib
import secrets

import jwt

from shared import ApiKeyRecord
from tests.leakguard import LeakGuard


def test_the_session_guard_registers_every_minted_secret(no_secret_leaks: LeakGuard) -> None:
    key = secrets.token_urlsafe(48)
    token = jwt.encode({"sub": "x"}, key, algorithm="HS256")
    record = ApiKeyRecord.issue("p", [])
    assert token in no_secret_leaks.secrets
    assert key in no_secret_leaks.secrets
    assert record.api_key in no_secret_leaks.secrets


def test_a_leak_is_found_in_plain_and_base64url_form() -> None:
    guard = LeakGuard()
    secret = "s3cr3t-" + secrets.token_urlsafe(32)
    guard.register(secret)
    guard.write('{"message": "all good"}')
    assert guard.leaks() == []
    guard.write(base64.urlsafe_b64encode(secret.encode()).decode())
    assert len(guard.leaks()) == 1
    guard.write(f'{{"header": "Bearer {secret}"}}')
    assert len(guard.leaks()) == 2


def test_an_api_keys_secret_part_alone_is_a_leak() -> None:
    guard = LeakGuard()
    key = ApiKeyRecord.issue("p", []).api_key
    guard.register(key)
    guard.write("value=" + key.split("_", 2)[2])
    assert guard.leaks()


def test_client_secrets_and_presented_credentials_are_registered(
    no_secret_leaks: LeakGuard,
) -> None:
    """Client secrets where they are made, and every secret, assertion and Basic value the
    token service is handed, whoever made it (authlib signs assertions without PyJWT)."""
    from shared import ClientRecord  # noqa: PLC0415
    from shared.clients import TokenHttpRequest, form  # noqa: PLC0415

    made = ClientRecord("svc-1", None, None, ("workflow:read",)).with_new_secret()
    assert made.client_secret in no_secret_leaks.secrets
    presented, assertion = "p" + secrets.token_urlsafe(32), "a." + secrets.token_urlsafe(40)
    request = TokenHttpRequest(
        body=f"grant_type=client_credentials&client_secret={presented}"
        f"&client_assertion={assertion}",
        is_base64_encoded=False,
        content_types=["application/x-www-form-urlencoded"],
        authorizations=[],
        source_ip="",
        request_id="",
        endpoint_url="",
    )
    form.read_form(request)
    assert presented in no_secret_leaks.secrets
    assert assertion in no_secret_leaks.secrets
    basic_secret = "b" + secrets.token_urlsafe(32)
    header = "Basic " + base64.b64encode(f"svc-1:{basic_secret}".encode()).decode()
    form.parse_basic(header)
    assert basic_secret in no_secret_leaks.secrets
    assert header.split(" ", 1)[1] in no_secret_leaks.secrets


def test_every_presented_dpop_proof_is_registered(no_secret_leaks: LeakGuard) -> None:
    """A proof is registered where it is verified, whoever signed it (a client's own JOSE
    library, not PyJWT): one in a log would fail the run."""
    from shared import dpop  # noqa: PLC0415

    proof = "e30." + secrets.token_urlsafe(40) + ".c2ln"
    with contextlib.suppress(dpop.DpopProofError):
        dpop.verify_proof(proof, method="GET", url="https://h/x", now=0, max_age=1, skew=1)
    assert proof in no_secret_leaks.secrets
