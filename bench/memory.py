"""Figure 5: resident memory, in a fresh process (what a Lambda container holds).

Peak RSS (`VmHWM`) after the cold start (import plus one first call per scheme), then after
N warm invocations with distinct valid credentials (HS256, ES256 and EdDSA tokens minted on
the fly, each with its own jti and subject, and API keys from a pool of 2,000, more than the
secret cache's bound); growth is the resident set after the run minus that just before it
(after the harness created its 2,000 keys). The harness (keys, token minting) lives in the
same process, so the figures are an upper bound of the authorizer's own.
Run as `python -m bench.memory N`; `run()` does that from the benchmark.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MIX = ("HS256", "HS256", "HS256", "HS256", "HS256", "ES256", "ES256", "EdDSA", "EdDSA", "api_key")


def _status() -> dict[str, float]:
    """VmRSS and VmHWM in MB, from /proc (no dependency needed)."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def child(invocations: int) -> dict[str, Any]:
    from bench import fixtures  # noqa: PLC0415

    fixtures.apply_env()
    import authorizer.app  # noqa: PLC0415 - the cold start being measured

    after_import = _status()
    from bench.contenders import add_api_key, build_world, install_ours  # noqa: PLC0415

    world = build_world(api_key_count=1)
    ours = install_ours(world)

    def invoke(number: int) -> None:
        scheme = MIX[number % len(MIX)]
        if scheme == "api_key":
            credential = world.api_keys[number // len(MIX) % len(world.api_keys)]
        else:
            credential = world.factory.token(scheme, sub=f"client-{number}")
        policy = ours(fixtures.event_for(scheme, credential))
        assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"

    with contextlib.redirect_stdout(world.sink):
        for number in range(len(MIX)):  # the first call of each scheme: the cold start
            invoke(number)
        after_first = _status()
        for _ in range(1999):  # more keys than the secret cache holds (1024): it must stay bounded
            add_api_key(world)
        baseline = _status()  # growth is counted from here: the harness's keys are not ours
        lines_before = world.sink.lines
        for number in range(invocations):
            invoke(number)
    end = _status()
    assert world.sink.lines - lines_before == 2 * invocations  # audit + EMF for each
    return {
        "invocations": invocations,
        "rss_after_import_mb": after_import["VmRSS"],
        "peak_after_cold_start_mb": after_first["VmHWM"],
        "rss_after_first_calls_mb": after_first["VmRSS"],
        "rss_before_run_mb": baseline["VmRSS"],
        "rss_after_run_mb": end["VmRSS"],
        "peak_after_run_mb": end["VmHWM"],
        "growth_mb": end["VmRSS"] - baseline["VmRSS"],
        "secret_cache_entries": len(authorizer.app.AUTHORIZER.store),
    }


def run(invocations: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory", str(invocations)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"memory child failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("BENCH") :])
    return result


if __name__ == "__main__":
    print("BENCH" + json.dumps(child(int(sys.argv[1]))))
