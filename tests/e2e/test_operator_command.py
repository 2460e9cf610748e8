"""`python -m wfctl` against the local run, exactly as an operator types it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.e2e.conftest import LocalRun
from tests.helpers import ROOT


def wfctl(local_run: LocalRun, *args: str) -> str:
    env = {**local_run.aws_env(), "JWT_SECRET_ID": local_run.state["jwt_secret_id"]}
    done = subprocess.run(
        [sys.executable, "-m", "wfctl", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_minted_token_carries_the_chosen_subject_and_scopes(local_run: LocalRun) -> None:
    token = wfctl(
        local_run, "token", "--subject", "reports", "--scope", "workflow:read:demo",
        "--lifetime", "120",
    ).strip()  # fmt: skip
    automate = local_run.call("GET", "/api/automate", token)
    assert automate.status_code == 200
    assert automate.json()["user"]["principal"] == "reports"
    assert automate.json()["user"]["scopes"] == ["workflow:read:demo"]
    assert local_run.call("GET", "/api/workflows/other/runs", token).status_code == 403


def test_api_key_lifecycle(local_run: LocalRun) -> None:
    # With the rotation function, as the admin API issues keys (schedule and audit included).
    rotation_function = local_run.state["rotation_function_arn"]
    created: dict[str, Any] = json.loads(
        wfctl(
            local_run, "api-keys", "create", "--principal", "batch", "--scope", "workflow:read",
            "--rotation-function-arn", rotation_function,
        )
    )  # fmt: skip
    assert created["rotate_after_days"] == 90
    old_key, key_id = created["api_key"], created["key_id"]
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 200
    listed = json.loads(wfctl(local_run, "api-keys", "list"))
    assert {"key_id": key_id, "principal": "batch", "scopes": ["workflow:read"]}.items() <= next(
        k for k in listed if k["key_id"] == key_id
    ).items()
    assert all("api_key" not in k for k in listed)  # never the value

    new_key = json.loads(wfctl(local_run, "api-keys", "rotate", key_id))["api_key"]
    assert new_key != old_key
    assert local_run.call("GET", "/api/internal", api_key=new_key).status_code == 200
    # Within the grace window the previous value still works (new identity: not cached).
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 200

    wfctl(local_run, "api-keys", "revoke", key_id)
    requests_flush = local_run.call("POST", "/__local/cache/flush")  # as if the TTL ran out
    assert requests_flush.status_code == 204
    assert local_run.call("GET", "/api/internal", api_key=new_key).status_code == 401
    assert local_run.call("GET", "/api/internal", api_key=old_key).status_code == 401
