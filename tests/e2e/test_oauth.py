"""OAuth access tokens from a real provider (oidc-provider, client_credentials grant)."""

from __future__ import annotations

import time

import jwt

from local.oidc_provider import OTHER_AUDIENCE
from tests.e2e.conftest import LocalRun


def test_client_credentials_token_is_accepted_on_secure_automate(local_run: LocalRun) -> None:
    token = local_run.oauth_token()
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    response = local_run.call("GET", "/api/secure-automate", token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Secure workflow executed!"
    assert body["user"]["scheme"] == "oauth"
    assert body["user"]["client_id"] == local_run.oauth["clients"][0]["client_id"]


def test_token_for_another_audience_is_refused(local_run: LocalRun) -> None:
    token = local_run.oauth_token(resource=OTHER_AUDIENCE)
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == OTHER_AUDIENCE
    assert local_run.call("GET", "/api/secure-automate", token).status_code == 401


def test_expired_token_is_refused(local_run: LocalRun) -> None:
    token = local_run.oauth_token(client=1)  # the short-lived client: tokens live 2 seconds
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 1.1)
    assert local_run.call("GET", "/api/secure-automate", token).status_code == 401


def test_token_from_a_rotated_away_key_is_refused(local_run: LocalRun) -> None:
    old = local_run.oauth_token()
    local_run.rotate_oauth_key()  # the provider restarts with only a new key
    time.sleep(1.2)  # JWKS_CACHE_SECONDS=1 in this run: the authorizer's key set is stale
    assert local_run.call("GET", "/api/secure-automate", old).status_code == 401
    new = local_run.oauth_token()
    assert local_run.call("GET", "/api/secure-automate", new).status_code == 200
