"""The local run as a user gets it: `python -m local.run` in its own process, driven over HTTP.

One run serves the whole session (starting moto, oidc-provider and the gateway takes a few
seconds). Ports are free ports; the process and its children are stopped at the end. Settings
that would make a test wait (clock skew, key-set and secret caches) are shortened through the
run's `--authorizer-env`, the same way a user can.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from shared.secret_formats import ClientRecord, client_secret_name
from tests.helpers import ROOT

START_TIMEOUT = 90.0
#: Access-token lifetime of the local provider's `wfctl` client in the test run (seconds).
LOGIN_TOKEN_TTL = 8
NODE_MISSING = "Node.js is not installed: the local OAuth provider (oidc-provider) cannot run"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LocalRun:
    process: subprocess.Popen[bytes]
    state: dict[str, Any]
    _clients: dict[tuple[str, tuple[str, ...], int | None], tuple[str, str]] = field(
        default_factory=dict
    )

    @property
    def base(self) -> str:
        return str(self.state["base_url"])

    @property
    def oauth(self) -> dict[str, Any]:
        if self.state["oauth"] is None:
            pytest.skip(NODE_MISSING)
        oauth: dict[str, Any] = self.state["oauth"]
        return oauth

    def aws_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": self.state["moto_endpoint"],
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def secrets_client(self) -> Any:
        return boto3.client(
            "secretsmanager",
            endpoint_url=self.state["moto_endpoint"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def client(
        self, *scopes: str, subject: str = "e2e-service", lifetime: int | None = None
    ) -> tuple[str, str]:
        """A registered client allowed exactly `scopes` (one per subject, scope set and token
        lifetime), as the admin API registers it: (client id, client secret)."""
        key = (subject, tuple(scopes), lifetime)
        if key not in self._clients:
            digest = hashlib.sha256(repr(key).encode()).hexdigest()[:10]
            client_id = f"{subject}-{digest}"
            record = ClientRecord(
                client_id, None, None, tuple(scopes), token_lifetime_seconds=lifetime
            ).with_new_secret()
            self.secrets_client().create_secret(
                Name=client_secret_name(self.state["client_secret_prefix"], client_id),
                SecretString=record.to_secret_string(),
            )
            self._clients[key] = (client_id, str(record.client_secret))
        return self._clients[key]

    def service_token(
        self, *scopes: str, subject: str = "e2e-service", lifetime: int | None = None
    ) -> str:
        """A fresh internal token from the token endpoint (a new jti, so a new authorizer
        cache entry), for a client allowed exactly `scopes`, living `lifetime` seconds (the
        token service's default when None). Nobody holds the signing key."""
        client_id, secret = self.client(*scopes, subject=subject, lifetime=lifetime)
        response = requests.post(
            self.state["token_endpoint"],
            auth=(client_id, secret),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def oauth_token(self, client: int = 0, **form: str) -> str:
        oauth = self.oauth
        chosen = oauth["clients"][client]
        response = requests.post(
            oauth["token_endpoint"],
            auth=(chosen["client_id"], chosen["client_secret"]),
            data={"grant_type": "client_credentials", "scope": chosen["scope"], **form},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = requests.get(f"{self.base}/__local/stats", timeout=5).json()
        return data

    def invocations(self) -> int:
        return int(self.stats()["authorizer_invocations"])

    def call(
        self,
        method: str,
        path: str,
        bearer: str | None = None,
        api_key: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        sent = dict(headers or {})
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        if api_key is not None:
            sent["X-Api-Key"] = api_key
        return requests.request(method, f"{self.base}{path}", headers=sent, json=body, timeout=30)

    def rotate_oauth_key(self) -> None:
        """Ask the run to restart its OAuth provider with a brand-new signing key (SIGHUP)."""
        jwks = self.oauth["jwks_uri"]
        before = {k["kid"] for k in requests.get(jwks, timeout=5).json()["keys"]}
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                after = {k["kid"] for k in requests.get(jwks, timeout=2).json()["keys"]}
                if after and not after & before:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("the OAuth provider did not come back with a new key")


def start_local_run(tmp: Path, extra: Sequence[str] = ()) -> LocalRun:
    state_file = tmp / "state.json"
    argv = [
        sys.executable, "-m", "local.run",
        "--port", str(free_port()), "--moto-port", str(free_port()),
        "--oidc-port", str(free_port()),
        "--state-file", str(state_file), "--workdir", str(tmp / "run"),
        "--credentials-file", str(tmp / "credentials.json"),
        # Every request of the session comes from 127.0.0.1, and the tests fail on purpose
        # more than 10 times in 5 minutes: the source-IP lockout (tested in-process, in
        # tests/integration) would lock the whole session out.
        "--env", "LOCKOUT_THRESHOLD=1000",
        # Expiry is exact, a rotated-away OAuth key is noticed within a second, and a revoked
        # API key at once (the deployed defaults are 60 s, 600 s and 60 s).
        "--env", "CLOCK_SKEW_SECONDS=0",
        "--authorizer-env", "JWKS_CACHE_SECONDS=1",
        "--authorizer-env", "POWERTOOLS_PARAMETERS_MAX_AGE=0",
        # `wfctl login` tokens expire within a test, so that the refresh is seen.
        "--login-token-ttl", str(LOGIN_TOKEN_TTL),
        *extra,
    ]  # fmt: skip
    if shutil.which("node") is None:
        argv.append("--no-oidc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log = (tmp / "run.log").open("wb")
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            output = (tmp / "run.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"local run did not start:\n{output}")
        time.sleep(0.1)
    return LocalRun(process, json.loads(state_file.read_text()))


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends: the run stops its children
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    run = start_local_run(tmp_path_factory.mktemp("local-run"))
    try:
        yield run
    finally:
        stop(run.process)
