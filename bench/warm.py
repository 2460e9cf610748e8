"""Figures 1-3: floor, naive reference and ours on the warm path, raced side by side.

The machine is shared and noisy, so the three contenders run in the same process, in
alternating batches (the order rotates every round), each invocation timed on its own. A ratio
is the median over rounds of (median of ours in the round / median of the floor in the same
round): drift in machine load hits both sides of each ratio alike.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench import fixtures
from bench.contenders import World, allow_resources, install_naive, install_ours
from bench.floor import api_key_floor, token_floor

#: "ours+guard" is ours with the security table on (`SECURITY_TABLE_NAME`), the table
#: answered in memory: the guard's CPU cost (a warm call reads its snapshot, no table); the
#: snapshot's refresh every `SECURITY_REFRESH_SECONDS` is counted in figure 7.
CONTENDERS = ("floor", "naive", "ours", "ours+guard")


def race(
    contenders: dict[str, Callable[[int], object]], rounds: int, batch: int
) -> tuple[dict[str, list[int]], dict[str, list[float]]]:
    """Per-invocation wall times (ns) per contender, and per-round medians."""
    samples, medians, _ = race_with_cpu(contenders, rounds, batch)
    return samples, medians


def race_with_cpu(
    contenders: dict[str, Callable[[int], object]], rounds: int, batch: int
) -> tuple[dict[str, list[int]], dict[str, list[float]], dict[str, list[int]]]:
    """Like `race`, plus each invocation's thread CPU time (ns): on a shared machine the wall
    time's tail is mostly the scheduler giving the core to someone else, the CPU time's is not.
    """
    samples: dict[str, list[int]] = {name: [] for name in contenders}
    cpu: dict[str, list[int]] = {name: [] for name in contenders}
    round_medians: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    for number in range(rounds + 1):  # round 0 warms up and is dropped
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            call, times, cpu_times = contenders[name], [], []
            for index in range(batch):
                cpu_start = cpu_clock()
                start = clock()
                call(index)
                end = clock()
                cpu_times.append(cpu_clock() - cpu_start)
                times.append(end - start)
            if number:
                samples[name] += times
                cpu[name] += cpu_times
                round_medians[name].append(statistics.median(times))
    return samples, round_medians, cpu


def p99(values: list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


def run(world: World, rounds: int, batch: int, pool: int) -> dict[str, Any]:
    naive = install_naive(world)
    guarded = install_ours(world, guard=True)
    ours = install_ours(world)
    results: dict[str, Any] = {}
    for scheme in fixtures.SCHEMES:
        if scheme == "api_key":
            credentials = world.api_keys
        else:
            credentials = [world.factory.token(scheme) for _ in range(pool)]
        events = [fixtures.event_for(scheme, c) for c in credentials]
        with contextlib.redirect_stdout(world.sink):
            resources = allow_resources(ours(events[0]))
        floor = (
            api_key_floor(world.records, resources, world.sink)
            if scheme == "api_key"
            else token_floor(world.keys, scheme, resources, world.sink)
        )
        contenders = _contenders(floor, naive, ours, credentials, events)
        contenders["ours+guard"] = _serialized(guarded, events)
        _check_outputs(world, contenders)
        with contextlib.redirect_stdout(world.sink):  # Powertools prints EMF to stdout
            samples, medians, cpu = race_with_cpu(contenders, rounds, batch)
        results[scheme] = _summarize(samples, medians, cpu)
    return results


def _contenders(
    floor: Callable[[str], str],
    naive: Callable[[dict[str, Any]], dict[str, Any]],
    ours: Callable[[dict[str, Any]], dict[str, Any]],
    credentials: list[str],
    events: list[dict[str, Any]],
) -> dict[str, Callable[[int], object]]:
    n = len(events)
    return {
        "floor": lambda i: floor(credentials[i % n]),
        # The Lambda runtime serializes the returned policy; the floor does it too.
        "naive": lambda i: json.dumps(naive(events[i % n])),
        "ours": lambda i: json.dumps(ours(events[i % n])),
    }


def _serialized(
    handler: Callable[[dict[str, Any]], dict[str, Any]], events: list[dict[str, Any]]
) -> Callable[[int], object]:
    n = len(events)
    return lambda i: json.dumps(handler(events[i % n]))


def _check_outputs(world: World, contenders: dict[str, Callable[[int], object]]) -> None:
    """Each contender allows, and writes exactly one audit line and one EMF blob per call."""
    for name, call in contenders.items():
        before = world.sink.lines
        with contextlib.redirect_stdout(world.sink):
            out = call(0)
        policy = json.loads(str(out))
        effects = {s["Effect"] for s in policy["policyDocument"]["Statement"]}
        assert effects == {"Allow"}, (name, policy)
        assert world.sink.lines - before == 2, (name, world.sink.lines - before)


def _summarize(
    samples: dict[str, list[int]], medians: dict[str, list[float]], cpu: dict[str, list[int]]
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, times in samples.items():
        summary[name] = {
            "median_us": statistics.median(times) / 1000,
            "p99_us": p99(times) / 1000,
            "cpu_median_us": statistics.median(cpu[name]) / 1000,
            "cpu_p99_us": p99(cpu[name]) / 1000,
            "n": len(times),
        }
    for name in ("naive", "ours", "ours+guard"):
        ratios = [o / f for o, f in zip(medians[name], medians["floor"], strict=True)]
        summary[name]["x_floor"] = statistics.median(ratios)
    ours_vs_naive = [o / n for o, n in zip(medians["ours"], medians["naive"], strict=True)]
    summary["ours"]["x_naive"] = statistics.median(ours_vs_naive)
    return summary
