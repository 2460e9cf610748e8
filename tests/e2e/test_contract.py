"""The API against its own contract, over HTTP through the local run: the Postman collection
with newman (every request green) and Schemathesis fuzzing every operation of
docs/openapi.json (no 5xx, every answer conforming to the document).

Both get a run of their own: fuzzing registers and revokes clients, keys and revocations at
random (its stateful phase follows the ids the API answers with), which must not touch the
session's run, and sends far more failed authentications than the session's lockout allows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import LocalRun, start_local_run, stop
from tests.helpers import ROOT

NEWMAN = ROOT / "local" / "contract" / "node_modules" / ".bin" / "newman"
COLLECTION = ROOT / "docs" / "postman" / "workflow-api.postman_collection.json"
ENVIRONMENT = ROOT / "docs" / "postman" / "local.postman_environment.json"
#: Examples per operation and phase: enough to reach every branch of the handlers' parsing,
#: few enough for CI (about a minute for every operation).
FUZZ_EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


@pytest.fixture(scope="module")
def contract_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    run = start_local_run(
        tmp_path_factory.mktemp("contract-run"), ["--env", "LOCKOUT_THRESHOLD=1000000"]
    )
    try:
        yield run
    finally:
        stop(run.process)


def client_token(run: LocalRun, name: str) -> str:
    client = run.state["clients"][name]
    response = requests.post(
        run.state["token_endpoint"],
        auth=(client["client_id"], client["client_secret"]),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_the_local_run_serves_the_committed_document(contract_run: LocalRun) -> None:
    served = requests.get(f"{contract_run.base}/openapi.json", timeout=5)
    assert served.status_code == 200
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    document = served.json()
    assert document["servers"][0]["url"] == contract_run.base
    assert document["paths"] == committed["paths"]
    assert document["components"] == committed["components"]


def test_stage_prefixed_paths_answer_so_location_can_be_followed(contract_run: LocalRun) -> None:
    token = client_token(contract_run, "demo")
    started = contract_run.call(
        "POST", "/api/workflows/demo/runs", bearer=token, body={"input": {}}
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location.startswith(f"/{contract_run.state['stage']}/api/workflows/demo/runs/")
    followed = contract_run.call("GET", location, bearer=token)
    assert followed.status_code == 200, followed.text
    assert followed.json()["runId"] == started.json()["runId"]


def test_the_wait_workflow_can_be_polled_and_cancelled(contract_run: LocalRun) -> None:
    token, admin = client_token(contract_run, "demo"), client_token(contract_run, "admin")
    started = contract_run.call("POST", "/api/workflows/wait/runs", bearer=token, body={})
    assert started.status_code == 202, started.text
    run = started.headers["Location"]
    assert contract_run.call("GET", run, bearer=token).json()["status"] == "RUNNING"
    cancelled = contract_run.call("POST", run + "/cancel", bearer=admin)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "ABORTED"
    assert contract_run.call("POST", run + "/cancel", bearer=admin).status_code == 409


@pytest.mark.skipif(not NEWMAN.exists(), reason="newman is not installed: run `make contract`")
def test_postman_collection_runs_green_with_newman(contract_run: LocalRun, tmp_path: Path) -> None:
    state = contract_run.state
    values = {
        "baseUrl": contract_run.base,
        "demoClientId": state["clients"]["demo"]["client_id"],
        "demoClientSecret": state["clients"]["demo"]["client_secret"],
        "adminClientId": state["clients"]["admin"]["client_id"],
        "adminClientSecret": state["clients"]["admin"]["client_secret"],
        "apiKey": state["api_key"],
    }
    if state["oauth"] is not None:
        oauth = state["oauth"]["clients"][0]
        values.update(
            oauthTokenUrl=state["oauth"]["token_endpoint"],
            oauthClientId=oauth["client_id"],
            oauthClientSecret=oauth["client_secret"],
            oauthScope=oauth["scope"],
        )
    # Secrets in an environment file (mode 0600), not on a command line others can read.
    environment = json.loads(ENVIRONMENT.read_text())
    for entry in environment["values"]:
        entry["value"] = values.get(entry["key"], entry["value"])
    env_file = tmp_path / "environment.json"
    env_file.touch(mode=0o600)
    env_file.write_text(json.dumps(environment))
    report = tmp_path / "newman.json"
    result = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(COLLECTION),
            "--environment",
            str(env_file),
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--color",
            "off",
            "--timeout-request",
            "30000",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    stats = json.loads(report.read_text())["run"]["stats"]
    routes = len(json.loads(COLLECTION.read_text())["item"])
    assert stats["requests"]["total"] >= routes
    assert stats["requests"]["failed"] == 0
    assert stats["assertions"]["failed"] == 0
    assert stats["assertions"]["total"] == routes
    print(f"newman: {stats['requests']['total']} requests, {stats['assertions']['total']} checks")


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(
    contract_run: LocalRun, tmp_path: Path
) -> None:
    base = contract_run.base
    headers = {
        "Authorization": f"Bearer {client_token(contract_run, 'admin')}",
        "X-Api-Key": contract_run.state["api_key"],
    }
    config = [
        "[generation]",
        f"max-examples = {FUZZ_EXAMPLES}",
        "[headers]",
        *(f"{name} = {json.dumps(value)}" for name, value in headers.items()),
    ]
    if contract_run.state["oauth"] is not None:
        # The one route for the OAuth provider's tokens gets one of those.
        config += [
            "[[operations]]",
            'include-path = "/api/secure-automate"',
            "[operations.headers]",
            f"Authorization = {json.dumps('Bearer ' + contract_run.oauth_token())}",
        ]
    config_file = tmp_path / "schemathesis.toml"
    config_file.touch(mode=0o600)
    config_file.write_text("\n".join(config) + "\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config_file),
            "run",
            f"{base}/openapi.json",
            "--url",
            base,
            "--checks",
            ",".join(CHECKS),
            "--seed",
            "15",
            "--no-color",
            "--workers",
            "1",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    output = result.stdout + result.stderr
    (Path(os.environ.get("CONTRACT_REPORT_DIR", tmp_path)) / "schemathesis.txt").write_text(output)
    assert result.returncode == 0, output[-12000:]
    summary = re.search(r"(\d+) generated", output)
    print(f"schemathesis: {summary.group(0) if summary else output[-400:]}")


def test_newman_is_pinned_by_the_project() -> None:
    """CI installs newman from local/contract's lockfile (`make contract`, run by `make test`)."""
    lock = json.loads((ROOT / "local" / "contract" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/newman"]["version"]
    assert shutil.which("npm") is None or (ROOT / "local" / "contract" / "package.json").exists()


def test_the_client_examples_run_against_the_local_run(contract_run: LocalRun) -> None:
    credentials = contract_run.state["credentials_file"]
    python = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "client.py"), credentials],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert python.returncode == 0, python.stderr[-3000:]
    assert json.loads(python.stdout)["status"] == "SUCCEEDED"
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    answer = subprocess.run(
        [node, str(ROOT / "docs" / "examples" / "client.mjs"), credentials, "wait"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert json.loads(answer.stdout)["status"] == "RUNNING"
