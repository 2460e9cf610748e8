"""The benchmark's own code keeps working (no timings are asserted: the machine is shared).

In-process and socket-free: the warm race with tiny sizes, the cache simulation over a few
simulated minutes, and the target marking. The full figures, with subprocesses and loopback
servers, run in CI through `make bench-smoke`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench import fixtures


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A benchmark world; the handler's module state and log stream are restored after."""
    for name, value in fixtures.BASE_ENV.items():
        monkeypatch.setenv(name, value)
    from authorizer import app  # noqa: PLC0415
    from bench.contenders import build_world  # noqa: PLC0415
    from shared.observability import logger  # noqa: PLC0415

    stream = logger.registered_handler.stream  # type: ignore[attr-defined]
    monkeypatch.setattr(app, "AUTHORIZER", app.AUTHORIZER)
    yield build_world(api_key_count=4)
    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]


def test_warm_race_produces_every_figure(world: Any) -> None:
    from bench import naive_authorizer, warm  # noqa: PLC0415

    stream = naive_authorizer.logger.registered_handler.stream  # type: ignore[attr-defined]
    try:
        results = warm.run(world, rounds=1, batch=3, pool=2)
    finally:
        naive_authorizer.logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    assert set(results) == set(fixtures.SCHEMES)
    for figures in results.values():
        assert set(figures) == {"floor", "naive", "ours", "ours+guard"}
        assert figures["ours"]["n"] == 3
        assert figures["ours"]["x_floor"] > 0
    # Every timed call wrote its audit line and EMF blob to the sink.
    assert world.sink.lines >= 2 * 3 * 4 * 2 * len(fixtures.SCHEMES)
    assert world.dynamo.calls > 0  # the guarded variant loaded its snapshot (in-memory table)
    assert world.secrets.calls > 0  # the caches were filled through the injected client
    assert world.jwks.calls == 3  # one key-set fetch each: ours, ours+guard, the naive client


def test_cache_simulation_finds_the_per_route_policy_bug(world: Any) -> None:
    from bench import cache_sim  # noqa: PLC0415

    results = cache_sim.run(world, minutes=6)
    assert results["ours"]["x_minimum"] == 1
    assert results["ours"]["false_403"] == results["ours"]["false_allow"] == 0
    assert results["per_route_cached_per_credential"]["false_403"] > 0
    correct = results["per_route_cached_per_credential_and_path"]
    assert correct["false_403"] == correct["false_allow"] == 0
    assert correct["x_minimum"] > 1


def test_gateway_policy_evaluation() -> None:
    from bench.cache_sim import evaluate  # noqa: PLC0415

    arn = "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/api/workflows/wf-1/runs"
    allow = {"Effect": "Allow", "Resource": [arn.replace("wf-1", "*")]}
    deny = {"Effect": "Deny", "Resource": [arn]}
    assert evaluate({"policyDocument": {"Statement": [allow]}}, arn) == 200
    assert evaluate({"policyDocument": {"Statement": [allow, deny]}}, arn) == 403
    assert evaluate({"policyDocument": {"Statement": []}}, arn) == 403
    assert evaluate(None, arn) == 401


def test_targets_are_marked() -> None:
    from bench.run import targets  # noqa: PLC0415

    ours = {"x_floor": 3.0, "p99_us": 4000.0, "cpu_p99_us": 400.0}
    figures = {"floor": {}, "naive": {}, "ours": ours, "ours+guard": {"x_floor": 2.0}}
    results = {
        "warm": {"HS256": figures},
        "cold": {
            "import_x_naive": 0.2,
            "oauth_import_plus_first_x_naive": 0.6,
            "oauth_deployed_import_plus_first_x_naive": 0.4,
            "jwt_deployed_import_plus_first_x_naive": 0.45,
            "api_key_deployed_import_plus_first_x_naive": 0.7,
        },
        "memory": {"peak_after_run_mb": 50.0, "growth_mb": 0.5, "invocations": 10},
        "cache": {"ours": {"x_minimum": 1.0, "false_403": 0, "false_allow": 0}},
        "network": {
            "warm_total": 0,
            "guard": {"warm_total": 5, "warm_invocations": 5},
        },
        "snapshot": {"flood": 100_000, "held_mb": 4.0},
    }
    marked = {t["target"]: t["met"] for t in targets(results)}
    assert marked["warm HS256: ours / floor"] is False
    assert marked["warm HS256: ours p99 CPU ms (wall 4.00)"] is True
    assert marked["cold: import + first OAuth call / naive"] is False
    deployed = "cold: import + first {} call, as deployed (table on) / naive"
    assert marked[deployed.format("HS256")] is True
    assert marked[deployed.format("API key")] is False
    assert marked["network calls on the warm path"] is True
    reads = [name for name in marked if "network calls/call" in name]
    assert len(reads) == 1
    assert marked[reads[0]] is False
    assert all(marked[name] for name in marked if name.startswith(("memory", "cache", "snap")))


def test_token_endpoint_figure(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import token_endpoint  # noqa: PLC0415

    for name, value in token_endpoint.ENV.items():
        monkeypatch.setenv(name, value)  # restored after the test
    results = token_endpoint.warm(world, calls=3)
    for method in ("client_secret_basic", "private_key_jwt"):
        assert results[method]["n"] == 3
        assert results[method]["median_us"] > 0
    # One lockout read per request, one conditional put per assertion: the table was used.
    assert results["dynamodb_calls"] >= 8 + 4


def test_dpop_figure(world: Any) -> None:
    from bench import dpop  # noqa: PLC0415

    results = dpop.run(world, rounds=1, batch=3, minutes=6)
    for scheme in dpop.SCHEMES:
        assert set(results[scheme]) == set(dpop.CONTENDERS)
        assert results[scheme]["dpop"]["n"] == 3
        assert results[scheme]["dpop"]["x_bearer"] > 0
    cache = results["cache"]
    assert cache["ttl0_per_10k"] == 10_000  # every request an invocation
    assert cache["cached_per_10k"] < cache["ttl0_per_10k"]
