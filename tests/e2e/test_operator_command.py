"""`python -m wfctl` against the local run, exactly as an operator types it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.e2e.conftest import LocalRun
from tests.helpers import ROOT


def wfctl(
    local_run: LocalRun, *args: str, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **local_run.aws_env(),
        "CLIENT_SECRET_PREFIX": local_run.state["client_secret_prefix"],
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
    assert created["rotate_after_days"] == 90
    old_key, key_id = created["api_key"], created["key_id"]
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 200
    listed = json.loads(ok(wfctl(local_run, "api-keys", "list")))
    assert {"key_id": key_id, "principal": "batch", "scopes": ["workflow:read"]}.items() <= next(
        k for k in listed if k["key_id"] == key_id
    ).items()
    assert all("api_key" not in k for k in listed)  # never the value

    new_key = json.loads(ok(wfctl(local_run, "api-keys", "rotate", key_id)))["api_key"]
    assert new_key != old_key
    assert local_run.call("GET", "/api/internal", api_key=new_key).status_code == 200
    # Within the grace window the previous value still works (new identity: not cached).
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 200

    ok(wfctl(local_run, "api-keys", "revoke", key_id))
    requests_flush = local_run.call("POST", "/__local/cache/flush")  # as if the TTL ran out
    assert requests_flush.status_code == 204
    assert local_run.call("GET", "/api/internal", api_key=new_key).status_code == 401
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 401
