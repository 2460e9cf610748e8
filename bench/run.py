"""`make bench` / `make bench-smoke`: all nine figures, a table with the targets marked, and
the same figures as JSON in `bench/results.json`.

    python -m bench            # the full run (several minutes on a quiet 2-core machine)
    python -m bench --smoke    # a few hundred iterations per figure, to keep the code alive
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fixtures

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    rounds: int
    batch: int
    pool: int
    processes: int
    invocations: int
    minutes: float
    network_seconds: float


FULL = Sizes(rounds=30, batch=200, pool=256, processes=20, invocations=100_000, minutes=30,
             network_seconds=3.0)  # fmt: skip
SMOKE = Sizes(rounds=3, batch=40, pool=16, processes=1, invocations=2_000, minutes=30,
              network_seconds=0.5)  # fmt: skip


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
    }


def measure(sizes: Sizes, progress: bool = True) -> dict[str, Any]:
    fixtures.apply_env()
    from bench import (  # noqa: PLC0415
        cache_sim,
        cold,
        dpop,
        memory,
        network,
        servers,
        snapshot,
        token_endpoint,
        warm,
    )
    from bench.contenders import build_world  # noqa: PLC0415

    def step(name: str) -> None:
        if progress:
            print(f"... {name}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {"machine": machine(), "sizes": sizes.__dict__}
    started = time.perf_counter()
    world = build_world()
    step("figures 1-3: floor, naive reference, ours (warm path)")
    results["warm"] = warm.run(world, sizes.rounds, sizes.batch, sizes.pool)
    step("figure 6: cache efficiency (simulated API Gateway cache)")
    results["cache"] = cache_sim.run(world, sizes.minutes)
    step("figure 10: DPoP (warm call with proof and replay write; cache cost of optional)")
    results["dpop"] = dpop.run(world, sizes.rounds, sizes.batch, sizes.minutes)
    with servers.loopback(world.keys) as loop:
        step("figure 7: network calls on the warm path")
        results["network"] = network.run(world, loop, sizes.network_seconds)
        step(f"figure 4: cold start ({sizes.processes} processes per contender and path)")
        results["cold"] = cold.run(loop, world.factory, sizes.processes)
        step("figure 8: token endpoint (warm and cold, per issued token)")
        results["token_endpoint"] = {
            "warm": token_endpoint.warm(world, sizes.rounds * sizes.batch),
            "cold": token_endpoint.cold(loop, sizes.processes),
        }
    step(f"figure 5: memory ({sizes.invocations} warm invocations)")
    results["memory"] = memory.run(sizes.invocations)
    step("figure 9: security snapshot memory under a 100,000-source flood")
    results["snapshot"] = snapshot.run(100_000)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["duration_seconds"] = time.perf_counter() - started
    results["targets"] = targets(results)
    return results


def _as_deployed() -> str:
    return " (as deployed)" if fixtures.DEPLOYED_WITH_GUARD else ""


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def target(name: str, value: float, limit: str, met: bool) -> None:
        found.append({"target": name, "value": round(value, 3), "limit": limit, "met": met})

    for scheme, figures in results["warm"].items():
        ratio = figures["ours"]["x_floor"]
        target(f"warm {scheme}: ours / floor", ratio, "<= 2.5", ratio <= 2.5)
        guarded = figures["ours+guard"]["x_floor"]
        label = f"warm {scheme}: ours+guard{_as_deployed()} / floor"
        target(label, guarded, "<= 2.5", guarded <= 2.5)
        # Judged on thread CPU time: on a shared machine the wall-clock tail is the scheduler
        # (both are in the table and the JSON; the wall p99 is named in the line).
        p99 = figures["ours"]["cpu_p99_us"] / 1000
        wall = figures["ours"]["p99_us"] / 1000
        target(f"warm {scheme}: ours p99 CPU ms (wall {wall:.2f})", p99, "< 1", p99 < 1)
    cold = results["cold"]
    target(
        "cold: import / naive", cold["import_x_naive"], "<= 0.35", cold["import_x_naive"] <= 0.35
    )
    oauth = cold["oauth_import_plus_first_x_naive"]
    target("cold: import + first OAuth call / naive", oauth, "<= 0.5", oauth <= 0.5)
    for scheme, label in (("oauth", "OAuth"), ("jwt", "HS256"), ("api_key", "API key")):
        ratio = cold[f"{scheme}_deployed_import_plus_first_x_naive"]
        name = f"cold: import + first {label} call, as deployed (table on) / naive"
        target(name, ratio, "<= 0.5", ratio <= 0.5)
    memory = results["memory"]
    peak = memory["peak_after_run_mb"]
    target("memory: peak RSS (MB)", peak, "<= 100", peak <= 100)
    growth = memory["growth_mb"]
    target(f"memory: growth over {memory['invocations']} calls (MB)", growth, "< 5", growth < 5)
    cache = results["cache"]["ours"]
    target("cache: invocations / minimum", cache["x_minimum"], "= 1", cache["x_minimum"] == 1)
    wrong = cache["false_403"] + cache["false_allow"]
    target("cache: false 403 + false allow", wrong, "= 0", wrong == 0)
    calls = results["network"]["warm_total"]
    target("network calls on the warm path", calls, "= 0", calls == 0)
    guard = results["network"]["guard"]
    per_call = guard["warm_total"] / guard["warm_invocations"]
    name = f"same, security table on{_as_deployed()}: network calls/call"
    target(name, per_call, "= 0", per_call == 0)
    if "snapshot" in results:
        flood = results["snapshot"]
        held = flood["held_mb"]
        target(f"snapshot + memos after a {flood['flood']:,}-source flood (MB)", held, "<= 10",
               held <= 10)  # fmt: skip
    return found


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    out = lines.append
    m = results["machine"]
    out(f"Machine: {m['cpu']}, {m['cpus']} CPUs (shared), {m['system']}, "
        f"{m['implementation']} {m['python']}; load {m['load_average_at_start'][0]:.1f} -> "
        f"{m['load_average_at_end'][0]:.1f}")  # fmt: skip
    out("")
    out("1-3. Warm path, us per invocation: median / p99 wall clock [p99 thread CPU time];")
    out("     ratios are medians of per-round ratios of medians (contenders alternate);")
    deployed = "as template.yaml deploys" if fixtures.DEPLOYED_WITH_GUARD else "not deployed"
    out(f"     ours+guard = ours with SECURITY_TABLE_NAME set ({deployed}), table in memory")
    out(f"{'scheme':<8} {'floor':>18} {'naive':>18} {'x floor':>7} {'ours':>18} "
        f"{'x floor':>7} {'x naive':>7} {'ours+guard':>11} {'x floor':>7}")  # fmt: skip
    for scheme, f in results["warm"].items():
        cells = [
            f"{f[c]['median_us']:4.0f} /{f[c]['p99_us']:5.0f} [{f[c]['cpu_p99_us']:4.0f}]"
            for c in ("floor", "naive", "ours")
        ]
        g = f["ours+guard"]
        out(f"{scheme:<8} {cells[0]:>18} {cells[1]:>18} {f['naive']['x_floor']:7.2f} "
            f"{cells[2]:>18} {f['ours']['x_floor']:7.2f} {f['ours']['x_naive']:7.2f} "
            f"{g['median_us']:11.0f} {g['x_floor']:7.2f}")  # fmt: skip
    c = results["cold"]
    o, n = c["ours"], c["naive"]
    out("")
    out(f"4. Cold start, ms (median of {c['processes']} fresh processes each; bare interpreter "
        f"{c['bare_interpreter_ms']:.0f} ms subtracted from imports)")  # fmt: skip
    out(f"{'':<34} {'ours':>8} {'naive':>8} {'ratio':>7}")
    out(f"{'import (init phase)':<34} {o['import_ms']:8.0f} {n['import_ms']:8.0f} "
        f"{c['import_x_naive']:7.2f}")  # fmt: skip
    out("   secrets via boto3, security table off (tests, the local run):")
    for scheme, label in (("oauth", "OAuth RS256"), ("jwt", "HS256"), ("api_key", "API key")):
        out(f"{'first call, ' + label:<34} {o[scheme + '_first_call_ms']:8.0f} "
            f"{n[scheme + '_first_call_ms']:8.0f}")  # fmt: skip
        out(f"{'import + first call, ' + label:<34} {o[scheme + '_import_plus_first_ms']:8.0f} "
            f"{n[scheme + '_import_plus_first_ms']:8.0f} "
            f"{c[scheme + '_import_plus_first_x_naive']:7.2f}")  # fmt: skip
    out(f"{'  of which boto3 import + client':<34} {o['jwt_client_ms']:8.0f} (HS256), "
        f"{o['api_key_client_ms']:.0f} (API key); naive imports boto3 at init: "
        f"{n['boto3_import_ms']:.0f}")  # fmt: skip
    out(f"{'  fresh process: import boto3':<34} {c['sdk']['boto3_import_ms']:8.0f}; "
        f"boto3.client('secretsmanager') {c['sdk']['client_creation_ms']:.0f}")  # fmt: skip
    d = c["deployed"]
    out("   as deployed: security table on, secrets via the extension (cache off), light "
        "DynamoDB client; the first call loads the security snapshot (2 queries)")  # fmt: skip
    for scheme, label in (("oauth", "OAuth RS256"), ("jwt", "HS256"), ("api_key", "API key")):
        out(f"{'import + first call, ' + label:<34} {d[scheme + '_import_plus_first_ms']:8.0f} "
            f"{n[scheme + '_import_plus_first_ms']:8.0f} "
            f"{c[scheme + '_deployed_import_plus_first_x_naive']:7.2f}   (first call "
            f"{d[scheme + '_first_call_ms']:.0f}, snapshot loaded)")  # fmt: skip
    out(f"{'  boto3 imported as deployed':<34} {'yes' if d['boto3_imported'] else 'no':>8}")
    mem = results["memory"]
    out("")
    out(f"5. Memory, MB (fresh process): RSS after import {mem['rss_after_import_mb']:.1f}; "
        f"peak after cold start (import + first call per scheme) "
        f"{mem['peak_after_cold_start_mb']:.1f}")  # fmt: skip
    out(f"   {mem['invocations']} warm calls with distinct credentials: RSS "
        f"{mem['rss_before_run_mb']:.1f} -> {mem['rss_after_run_mb']:.1f} (growth "
        f"{mem['growth_mb']:+.2f}), peak {mem['peak_after_run_mb']:.1f}; secret cache entries "
        f"{mem['secret_cache_entries']} (bound 1024)")  # fmt: skip
    cache = results["cache"]
    out("")
    out(f"6. Cache efficiency: {cache['clients']} clients x all routes x {cache['minutes']:.0f} "
        f"simulated min, TTL {cache['ttl_seconds']} s, {cache['requests']} requests "
        f"({cache['allowed_by_oracle']} allowed); minimum {cache['minimum_per_10k']:.0f} "
        "invocations per 10k")  # fmt: skip
    for name in (
        "ours",
        "per_route_cached_per_credential",
        "per_route_cached_per_credential_and_path",
    ):
        row = cache[name]
        out(f"   {name:<42} {row['invocations_per_10k']:7.0f} per 10k  x{row['x_minimum']:<6.2f} "
            f"false 403: {row['false_403']}, false allow: {row['false_allow']}")  # fmt: skip
    net = results["network"]
    out("")
    out(f"7. Network calls: first calls {net['first_calls']}")
    out(f"   warm ({net['warm_invocations']} calls in {net['window_seconds']} s): "
        f"{net['warm_calls'] or 'none'}")  # fmt: skip
    out(f"   once the {net['secret_max_age_seconds']} s secret max age has passed: "
        f"{net['after_secret_max_age']}")  # fmt: skip
    g = net["guard"]
    out(f"   security table on (SECURITY_TABLE_NAME, moto DynamoDB{_as_deployed()}): warm "
        f"({g['warm_invocations']} calls in {g['window_seconds']} s, mean "
        f"{g['warm_mean_us']:.0f} us vs {net['warm_mean_us']:.0f} us off): "
        f"{g['warm_calls'] or 'none'} ({g['warm_calls_per_call']:.3f} per call)")  # fmt: skip
    out(f"   once the {g['refresh_seconds']} s snapshot refresh is due (one call pays it): "
        f"{g['after_refresh']}")  # fmt: skip
    flood = results["snapshot"]
    caps, entries = flood["caps"], flood["entries"]
    out("")
    out(f"9. Security snapshot under a {flood['flood']:,}-source flood (tracemalloc, MB): "
        f"snapshot {flood['snapshot_mb']:.2f}; snapshot + memos held {flood['held_mb']:.2f}, "
        f"peak {flood['peak_mb']:.2f}")  # fmt: skip
    out(f"   entries: locked sources {entries['locked_sources']} (cap "
        f"{caps['locked_sources']}, complete: {flood['locked_sources_complete']}), "
        f"revocations {entries['revocations']} (cap {caps['revocations']}; None = read per "
        f"request), memos {entries['locked_here']} / {entries['seen']} (cap {caps['memo']}); "
        f"{caps['revocations']} revocations alone: "
        f"{flood['revocations_at_cap_mb']:.2f}")  # fmt: skip
    token = results["token_endpoint"]
    tw, tc = token["warm"], token["cold"]
    authorizer = results["warm"]["HS256"]["ours+guard"]["median_us"]
    out("")
    out("8. Token endpoint (POST /oauth/token, security table on as deployed), per issued token")
    for method in ("client_secret_basic", "private_key_jwt"):
        row = tw[method]
        out(f"   warm {method:<20} {row['median_us']:6.0f} / {row['p99_us']:6.0f} us "
            f"(median / p99; x{row['median_us'] / authorizer:.1f} the authorizer's HS256 "
            f"decision, {authorizer:.0f} us)")  # fmt: skip
    out(f"   cold: import {tc['import_ms']:.0f} ms, first token {tc['first_token_ms']:.0f} ms, "
        f"import + first token {tc['import_plus_first_token_ms']:.0f} ms "
        f"(median of {tc['processes']} fresh processes, moto server)")  # fmt: skip
    if "dpop" in results:
        out("")
        out(dpop_table(results["dpop"]))
    out("")
    out("Targets")
    for t in results["targets"]:
        mark = "met" if t["met"] else "NOT MET"
        out(f"  [{mark:^7}] {t['target']:<56} {t['value']:>8} (target {t['limit']})")
    return "\n".join(lines)


def dpop_table(figures: dict[str, Any]) -> str:
    """Figure 10's lines."""
    lines = [
        "10. DPoP (DPOP_MODE=optional, security table on, in memory), us per invocation: "
        "median / p99 wall [median CPU]",
        f"   {'scheme':<8} {'bearer':>20} {'DPoP':>20} {'+ us':>6} {'x':>5} {'proof alone':>20}",
    ]
    for scheme in ("HS256", "ES256"):
        f = figures[scheme]
        cells = [
            f"{f[c]['median_us']:5.0f} /{f[c]['p99_us']:5.0f} [{f[c]['cpu_median_us']:4.0f}]"
            for c in ("bearer", "dpop", "proof")
        ]
        extra, ratio = f["dpop"]["extra_us"], f["dpop"]["x_bearer"]
        lines.append(
            f"   {scheme:<8} {cells[0]:>20} {cells[1]:>20} {extra:6.0f} {ratio:5.2f} {cells[2]:>20}"
        )
    c = figures["cache"]
    lines.append(
        f"   authorizer invocations per 10k requests (figure-6 workload): TTL {c['ttl_seconds']} s "
        f"{c['cached_per_10k']:.0f}; optional (TTL 0) or any DPoP call {c['ttl0_per_10k']:.0f} "
        f"(x{c['x_cached']:.0f}); each DPoP call also writes one replay item"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="few iterations, to check it runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    results = measure(SMOKE if args.smoke else FULL)
    results["mode"] = "smoke" if args.smoke else "full"
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n({results['mode']} run, {results['duration_seconds']:.0f} s; JSON in {args.out})")
    return 0
