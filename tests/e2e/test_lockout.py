"""Lockout over real HTTP, from several loopback source addresses: failures lock the source
that made them, never the identity they claimed.

It once counted the unverified key id / `sub`: ten forged requests from ten addresses then
locked a valid key and a valid service out (401 `rate_limited` from a fresh address), window
after window. This run has its own local run, with the lockout at 3 failures per window.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.scopes import READ
from shared.secret_formats import parse_api_key
from tests.e2e.conftest import LocalRun, start_local_run, stop

THRESHOLD = 3


@pytest.fixture(scope="module")
def strict_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    run = start_local_run(
        tmp_path_factory.mktemp("lockout-run"), ["--env", f"LOCKOUT_THRESHOLD={THRESHOLD}"]
    )
    try:
        yield run
    finally:
        stop(run.process)


def call_from(run: LocalRun, source: str, path: str, headers: dict[str, str]) -> int:
    """GET `path` from the loopback address `source` (the gateway's `sourceIp`)."""
    host, port = run.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def forged_key(valid: str) -> str:
    """The victim's key id with a made-up secret: what anyone can write."""
    key_id = parse_api_key(valid)
    assert key_id is not None
    return f"wfk_{key_id}_{'A' * 43}"


def forged_token(subject: str) -> str:
    """An unsigned-looking token claiming the victim's subject (never verifies)."""

    def part(data: dict[str, Any]) -> str:
        import base64  # noqa: PLC0415

        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': subject})}.c2lnbmF0dXJl"


def test_forged_failures_from_many_addresses_lock_nobody_out(strict_run: LocalRun) -> None:
    api_key = strict_run.state["api_key"]
    token = strict_run.service_token(READ, subject="victim-service")
    client_id = token and strict_run.client(READ, subject="victim-service")[0]
    for i in range(10):
        source = f"127.0.0.{10 + i}"
        assert (
            call_from(strict_run, source, "/api/internal", {"X-Api-Key": forged_key(api_key)})
            == 401
        )
        forged = {"Authorization": f"Bearer {forged_token(client_id)}"}
        assert call_from(strict_run, source, "/api/automate", forged) == 401

    assert call_from(strict_run, "127.0.0.50", "/api/internal", {"X-Api-Key": api_key}) == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert call_from(strict_run, "127.0.0.50", "/api/automate", bearer) == 200


def test_the_source_that_failed_is_locked_and_only_it(strict_run: LocalRun) -> None:
    api_key = strict_run.state["api_key"]
    for _ in range(THRESHOLD):
        assert (
            call_from(strict_run, "127.0.0.60", "/api/internal", {"X-Api-Key": forged_key(api_key)})
            == 401
        )
    # Fresh credentials (nothing cached for them yet): refused from the locked source only.
    locked = {"Authorization": f"Bearer {strict_run.service_token(READ, subject='from-60')}"}
    assert call_from(strict_run, "127.0.0.60", "/api/automate", locked) == 401
    other = {"Authorization": f"Bearer {strict_run.service_token(READ, subject='from-61')}"}
    assert call_from(strict_run, "127.0.0.61", "/api/automate", other) == 200
