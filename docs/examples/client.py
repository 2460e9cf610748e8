"""A Python client of the API: a token by client credentials (authlib, client_secret_basic),
then a run started with retries that cannot start it twice (`Idempotency-Key`), polled until
it leaves RUNNING or the time is up.

    python docs/examples/client.py local/.run/credentials.json [workflowId]

Needs `requests` and `authlib` (both in requirements-dev.txt). The credentials file is the one
`make run` writes; against AWS, give it your own `{"baseUrl", "clients": {"demo": {...}}}`.
"""

from __future__ import annotations

import json
import sys
import time
import uuid

from authlib.integrations.requests_client import OAuth2Session
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def main(credentials_file: str, workflow: str = "demo") -> int:
    with open(credentials_file, encoding="utf-8") as handle:
        credentials = json.load(handle)
    base, demo = credentials["baseUrl"], credentials["clients"]["demo"]
    session = OAuth2Session(
        demo["clientId"], demo["clientSecret"], token_endpoint_auth_method="client_secret_basic"
    )
    session.fetch_token(base + "/oauth/token", grant_type="client_credentials")
    # Retries on 429/502/503/504 and connection errors, POST included: safe only because every
    # attempt carries the same Idempotency-Key, so a retried start returns the same run.
    retry = Retry(
        total=4, backoff_factor=0.5, status_forcelist=(429, 502, 503, 504),
        allowed_methods=None, respect_retry_after_header=True,
    )  # fmt: skip
    session.mount(base, HTTPAdapter(max_retries=retry))
    key = str(uuid.uuid4())
    started = session.post(
        f"{base}/api/workflows/{workflow}/runs",
        json={"input": {"from": "docs/examples/client.py"}},
        headers={"Idempotency-Key": key},
        timeout=10,
    )
    started.raise_for_status()
    again = session.post(
        f"{base}/api/workflows/{workflow}/runs",
        json={"input": {"from": "docs/examples/client.py"}},
        headers={"Idempotency-Key": key},
        timeout=10,
    )
    if again.json()["runId"] != started.json()["runId"]:
        raise SystemExit("a retry with the same Idempotency-Key started a second run")
    location = base + started.headers["Location"]
    deadline = time.monotonic() + 10
    run = session.get(location, timeout=10).json()
    while run["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)
        run = session.get(location, timeout=10).json()
    print(json.dumps({"runId": run["runId"], "status": run["status"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
