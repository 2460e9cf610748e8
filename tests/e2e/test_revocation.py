"""Revocation and lockout over real HTTP: what an operator sees after revoking a token."""

from __future__ import annotations

import base64
import json
import time

import requests

from shared.scopes import ADMIN, READ
from tests.e2e.conftest import LocalRun
from tests.unit.template.conftest import load_template

#: As template.yaml sets it for the authorizer (the local run deploys that template).
REFRESH_SECONDS = int(
    load_template()["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"][
        "SECURITY_REFRESH_SECONDS"
    ]
)


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    data: dict[str, object] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return data


def test_a_revoked_token_stops_passing_once_the_cached_policy_is_gone(local_run: LocalRun) -> None:
    admin = local_run.service_token(ADMIN, subject="e2e-security-admin")
    victim = local_run.service_token(READ, subject="e2e-leaked")
    assert local_run.call("GET", "/api/automate", victim).status_code == 200
    claims = claims_of(victim)
    revoked = local_run.call(
        "POST",
        "/api/admin/revocations",
        admin,
        body={"jti": claims["jti"], "expiresAt": claims["exp"]},
    )
    assert revoked.status_code == 201, revoked.text
    listed = local_run.call("GET", "/api/admin/revocations", admin).json()["revocations"]
    assert any(item.get("jti") == claims["jti"] for item in listed)
    # Within the authorizer cache TTL the cached policy still answers: that is the bound.
    assert local_run.call("GET", "/api/automate", victim).status_code == 200
    requests.post(local_run.base + "/__local/cache/flush", timeout=5)
    # The authorizer's snapshot of the revocations is at most SECURITY_REFRESH_SECONDS old.
    deadline = time.monotonic() + REFRESH_SECONDS + 2
    while local_run.call("GET", "/api/automate", victim).status_code == 200:
        assert time.monotonic() < deadline, "still allowed after the snapshot's refresh period"
        requests.post(local_run.base + "/__local/cache/flush", timeout=5)
        time.sleep(0.5)
    assert local_run.call("GET", "/api/automate", victim).status_code == 401
    assert local_run.call("GET", "/api/automate", local_run.service_token(READ)).status_code == 200
