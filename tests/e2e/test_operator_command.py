"""`python -m wfctl` against the local run, exactly as an operator types it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import jwt

from tests.e2e.conftest import LocalRun
from tests.helpers import ROOT


def wfctl(
    local_run: LocalRun, *args: str, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **local_run.aws_env(),
        "CLIENT_SECRET_PREFIX": local_run.state["client_secret_prefix"],
        "API_KEY_SECRET_PREFIX": local_run.state["api_key_prefix"],
        "WFCTL_TOKEN_ENDPOINT": local_run.state["token_endpoint"],
        **extra_env,
    }
    if "WFCTL_CLIENT_SECRET" not in extra_env:
        env.pop("WFCTL_CLIENT_SECRET", None)
    return subprocess.run(
        [sys.executable, "-m", "wfctl", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_token_comes_from_the_token_endpoint_with_the_clients_scopes(
    local_run: LocalRun,
) -> None:
    demo = local_run.state["clients"]["demo"]
    token = ok(
        wfctl(local_run, "token", "--client-id", demo["client_id"], "--scope", "workflow:read",
              WFCTL_CLIENT_SECRET=demo["client_secret"])
    ).strip()  # fmt: skip
    automate = local_run.call("GET", "/api/automate", token)
    assert automate.status_code == 200
    assert automate.json()["user"]["principal"] == "demo"
    assert automate.json()["user"]["scopes"] == ["workflow:read"]
    assert (
        local_run.call("POST", "/api/trigger", token, body={"workflowId": "demo"}).status_code
        == 403
    )
    # The secret from stdin works the same; a wrong one is refused, and never printed.
    piped = wfctl(local_run, "token", "--client-id", "demo", "--client-secret-stdin",
                  stdin=demo["client_secret"] + "\n")  # fmt: skip
    assert local_run.call("GET", "/api/automate", ok(piped).strip()).status_code == 200
    wrong = wfctl(local_run, "token", "--client-id", "demo", WFCTL_CLIENT_SECRET="W" * 43)
    assert wrong.returncode == 2
    assert "invalid_client" in wrong.stderr
    assert "W" * 43 not in wrong.stderr + wrong.stdout
    # No secret at all: refused before any request.
    assert wfctl(local_run, "token", "--client-id", "demo").returncode == 2


def test_mint_token_is_break_glass_and_says_so(local_run: LocalRun) -> None:
    done = wfctl(
        local_run, "mint-token", "--subject", "reports", "--scope", "workflow:read:demo",
        "--lifetime", "120", JWT_SECRET_ID=local_run.state["jwt_secret_id"],
        JWT_ISSUER=local_run.state["jwt_issuer"], JWT_AUDIENCE=local_run.state["jwt_audience"],
    )  # fmt: skip
    assert "BREAK-GLASS" in done.stderr
    assert "token.minted_break_glass" in done.stderr  # audited
    token = ok(done).strip()
    automate = local_run.call("GET", "/api/automate", token)
    assert automate.status_code == 200
    assert automate.json()["user"]["principal"] == "reports"
    assert local_run.call("GET", "/api/workflows/other/runs", token).status_code == 403


def test_client_lifecycle(local_run: LocalRun) -> None:
    created = json.loads(
        ok(wfctl(local_run, "clients", "create", "--client-id", "e2e-wfctl-client",
                 "--scope", "workflow:read", "--scope", "workflow:trigger:demo"))
    )  # fmt: skip
    assert set(created) == {"clientId", "clientSecret", "allowedScopes", "tokenEndpoint"}
    assert created["allowedScopes"] == ["workflow:read", "workflow:trigger:demo"]
    assert created["tokenEndpoint"] == local_run.state["token_endpoint"]
    old = created["clientSecret"]
    get = wfctl(local_run, "token", "--client-id", "e2e-wfctl-client", WFCTL_CLIENT_SECRET=old)
    assert local_run.call("GET", "/api/workflows/demo/runs", ok(get).strip()).status_code == 200
    listed = json.loads(ok(wfctl(local_run, "clients", "list")))
    mine = next(c for c in listed if c["clientId"] == "e2e-wfctl-client")
    assert mine["allowedScopes"] == ["workflow:read", "workflow:trigger:demo"]
    assert old not in json.dumps(listed)
    new = json.loads(ok(wfctl(local_run, "clients", "rotate", "e2e-wfctl-client")))["clientSecret"]
    assert new != old
    for secret in (new, old):  # the old one within its grace window
        done = wfctl(local_run, "token", "--client-id", "e2e-wfctl-client",
                     WFCTL_CLIENT_SECRET=secret)  # fmt: skip
        assert done.returncode == 0, done.stderr
    revoked = json.loads(ok(wfctl(local_run, "clients", "revoke", "e2e-wfctl-client")))
    assert revoked["revoked"] is True


def test_api_key_lifecycle(local_run: LocalRun) -> None:
    # With the rotation function, as the admin API issues keys (schedule and audit included).
    rotation_function = local_run.state["rotation_function_arn"]
    created: dict[str, Any] = json.loads(
        wfctl(
            local_run, "api-keys", "create", "--principal", "batch", "--scope", "workflow:read",
            "--rotation-function-arn", rotation_function,
        ).stdout
    )  # fmt: skip
    assert set(created) == {"keyId", "apiKey", "principal", "scopes", "rotateAfterDays"}
    assert created["rotateAfterDays"] == 90
    old_key, key_id = created["apiKey"], created["keyId"]
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 200
    listed = json.loads(ok(wfctl(local_run, "api-keys", "list")))
    assert {"keyId": key_id, "principal": "batch", "scopes": ["workflow:read"]}.items() <= next(
        k for k in listed if k["keyId"] == key_id
    ).items()
    assert old_key not in json.dumps(listed)  # never the value
    shown = json.loads(ok(wfctl(local_run, "api-keys", "show", key_id)))
    assert shown["rotationEnabled"] is True
    assert shown["rotateAfterDays"] == 90
    assert shown["rotationFunctionArn"] == rotation_function
    assert {"lastRotated", "nextRotation", "created"} <= set(shown)
    assert old_key not in json.dumps(shown)

    rotated = wfctl(local_run, "api-keys", "rotate", key_id)
    new_key = json.loads(ok(rotated))["apiKey"]
    assert new_key != old_key
    audit = [json.loads(line) for line in rotated.stderr.splitlines() if '"audit"' in line]
    assert [(a["action"], a["api_key_id"]) for a in audit] == [("api_key.rotated", key_id)]
    assert audit[0]["principal"].startswith("operator:")
    assert new_key not in rotated.stderr
    assert old_key not in rotated.stderr
    assert local_run.call("GET", "/api/internal", api_key=new_key).status_code == 200
    # Within the grace window the previous value still works (new identity: not cached).
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 200

    revoked = json.loads(ok(wfctl(local_run, "api-keys", "revoke", key_id)))
    assert revoked["keyId"] == key_id
    assert revoked["revoked"] is True
    requests_flush = local_run.call("POST", "/__local/cache/flush")  # as if the TTL ran out
    assert requests_flush.status_code == 204
    assert local_run.call("GET", "/api/internal", api_key=new_key).status_code == 401
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 401


def test_revocations_through_the_apis_store(local_run: LocalRun) -> None:
    table = local_run.state["security_table_name"]
    token = local_run.service_token("workflow:read", subject="e2e-revoked-by-wfctl")
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    done = wfctl(local_run, "revocations", "--table", table, "create", "--jti", jti)
    created = json.loads(ok(done))
    assert created["jti"] == jti
    assert created["revokedBy"].startswith("operator:")
    assert '"revoke_token"' in done.stderr  # the API's audit action
    listed = json.loads(ok(wfctl(local_run, "revocations", "--table", table, "list")))
    assert jti in [r.get("jti") for r in listed["revocations"]]
    # The API lists the same store.
    admin = local_run.service_token("workflow:admin", subject="e2e-admin-for-wfctl")
    api = local_run.call("GET", "/api/admin/revocations?limit=100", admin).json()
    assert jti in [r.get("jti") for r in api["revocations"]]
    # What the API refuses, wfctl refuses (same parser), before any write.
    bad = wfctl(local_run, "revocations", "--table", table, "create", "--sub", "has space")
    assert bad.returncode == 2
    assert "invalid_revocation" in bad.stderr
