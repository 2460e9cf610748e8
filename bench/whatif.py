"""Where ours' warm time goes, and what proposed changes would win, measured.

1. A profile of the real handler (cProfile, own time grouped by library), scaled to the
   unprofiled median, so that "which library call costs what" is a number.
2. Proposed changes to `authorizer/`, applied here as in-process patches (the benchmark never
   edits `authorizer/`; the lead applies what is accepted), each raced against the unpatched
   handler like the warm figure. None of them drops or loosens a check: they cache what is
   recomputed on every call from inputs that did not change.

Run: `python -m bench.whatif [--smoke]` (prints a table, adds nothing to results.json).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import pstats
import re
import statistics
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from bench import fixtures
from bench.contenders import World, build_world, install_ours
from bench.warm import race

#: The calls ours spends its time in: (label, file suffix, function name).
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    ("PyJWT jwt.decode (all of it)", "jwt/api_jwt.py", "decode"),
    ("  of which signature check", "jwt/api_jws.py", "_verify_signature"),
    ("  of which segment checks + JSON", "jwt/api_jws.py", "_load"),
    ("Powertools Logger.info (audit line)", "logging/logger.py", "info"),
    ("Powertools Metrics flush (EMF blob)", "cloudwatch_emf/cloudwatch.py", "flush_metrics"),
    ("Powertools add_metric/add_dimension", "cloudwatch_emf/cloudwatch.py", "add_metric"),
    ("authorizer build_policy", "authorizer/policy.py", "build_policy"),
    ("authorizer policy.permits (audit allow/deny)", "authorizer/policy.py", "permits"),
    ("authorizer read_request", "authorizer/request.py", "read_request"),
    ("authorizer jose.parse_unverified", "authorizer/jose.py", "parse_unverified"),
    ("authorizer service-token key lookup", "authorizer/service_tokens.py", "_candidates"),
    ("authorizer ApiKeyVerifier.verify", "authorizer/api_keys.py", "verify"),
    ("credential fingerprint (sha256)", "shared/observability.py", "fingerprint"),
)


def profile(call: Callable[[int], object], invocations: int) -> dict[str, float]:
    """Cumulative share (percent of the whole call) of each component, under cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(invocations):
        call(index)
    profiler.disable()
    stats: dict[tuple[str, int, str], Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = max(row[3] for row in stats.values())
    shares: dict[str, float] = {}
    for label, suffix, function in COMPONENTS:
        total = sum(
            row[3]
            for (filename, _, name), row in stats.items()
            if filename.endswith(suffix) and name == function
        )
        if function == "add_metric":
            total += sum(
                row[3]
                for (filename, _, name), row in stats.items()
                if filename.endswith(suffix) and name == "add_dimension"
            )
        if total:
            shares[label] = 100 * total / whole
    return shares


_B64URL = re.compile(rb"[A-Za-z0-9_-]*")


def _strict_b64(segment: bytes) -> bytes:
    """What PyJWT's `_decode_base64url_segment` checks (alphabet, length, canonical form), with
    a regex instead of a per-byte generator: the upstream change proposed in the report."""
    import base64  # noqa: PLC0415

    stripped = segment.rstrip(b"=")
    if len(segment) - len(stripped) > 2 or len(stripped) % 4 == 1:
        raise ValueError("padding")
    if not _B64URL.fullmatch(stripped):
        raise ValueError("alphabet")
    decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
        raise ValueError("not canonical")
    return decoded


def component_costs(world: World, rounds: int, batch: int) -> dict[str, float]:
    """Median us of each library call ours makes, unprofiled, raced like the warm figure."""
    import time  # noqa: PLC0415

    import jwt  # noqa: PLC0415
    from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415
    from jwt.api_jws import PyJWS  # noqa: PLC0415

    from authorizer.jose import parse_unverified  # noqa: PLC0415
    from authorizer.policy import build_policy, grants_of, permits  # noqa: PLC0415
    from authorizer.request import read_request  # noqa: PLC0415
    from shared.observability import logger, metrics  # noqa: PLC0415
    from shared.routes import Scheme  # noqa: PLC0415

    hs_token, rs_token = world.factory.token("HS256"), world.factory.token("RS256")
    event = fixtures.event_for("HS256", hs_token)
    request = read_request(event)
    admin = ("workflow:admin",)
    route, params = request.route, request.path_params
    fields: dict[str, Any] = {
        "decision": "allow", "scheme": "jwt", "principal": "client-1", "reason": "ok",
        "source_ip": "203.0.113.7", "http_method": "GET", "resource": "/api/automate",
        "request_id": "c6af9ac6", "key_id": None, "kid": "hs-bench-1",
        "credential_fingerprint": "0123456789ab",
    }  # fmt: skip
    hs_options: Any = {"require": ["sub", "exp", "iat"], "enforce_minimum_key_length": True}
    common: dict[str, Any] = {"leeway": 60}
    rsa_key = world.keys.public["RS256"]
    rs_segments = rs_token.encode().split(b".")

    def metrics_flush() -> None:
        metrics.add_dimension(name="scheme", value="jwt")
        metrics.add_dimension(name="reason", value="ok")
        metrics.add_metric(name="AuthorizerAllow", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()

    def plain_line() -> None:
        world.sink.write(json.dumps({"level": "INFO", "timestamp": time.time(), **fields}) + "\n")

    calls: dict[str, Callable[[], object]] = {
        "jwt.decode HS256 (ours' options)": lambda: jwt.decode(
            hs_token,
            world.keys.hs_key,
            algorithms=["HS256"],
            issuer=fixtures.SERVICE_ISSUER,
            audience=fixtures.SERVICE_AUDIENCE,
            options=hs_options,
            **common,
        ),
        "jwt.decode RS256 (ours' options)": lambda: jwt.decode(
            rs_token,
            rsa_key,
            algorithms=["RS256"],
            issuer=fixtures.ISSUER,
            audience=fixtures.AUDIENCE,
            options={"require": ["exp", "iss", "aud"]},
            **common,
        ),
        "Powertools Logger.info, audit fields": lambda: logger.info(
            "authorizer decision", **fields
        ),
        "plain json.dumps audit line": plain_line,
        "Powertools 2 dims + metric + flush": metrics_flush,
        "authorizer read_request": lambda: read_request(event),
        "authorizer jose.parse_unverified HS256": lambda: parse_unverified(hs_token),
        "authorizer build_policy (admin, bearer routes)": lambda: build_policy(
            "p", request.arn, request.route.authorizer, Scheme.JWT, admin, {}
        ),
        "authorizer policy.permits (admin scopes)": lambda: permits(
            route, Scheme.JWT, grants_of(admin), params
        ),
        "PyJWT segment checks, RS256 token": lambda: [
            PyJWS._decode_base64url_segment(segment, "s") for segment in rs_segments
        ],
        "same checks, regex + base64 (proposal)": lambda: [
            _strict_b64(segment) for segment in rs_segments
        ],
    }
    timed: dict[str, Callable[[int], object]] = {}
    for name, call in calls.items():
        timed[name] = lambda _index, call=call: call()  # type: ignore[misc]
    _, medians = race(timed, rounds, batch)
    return {name: statistics.median(values) / 1000 for name, values in medians.items()}


# --- proposed changes, as patches -------------------------------------------------------
# Each change installs a switch: the patched function runs the proposed code while
# `Toggle.on` is set and the original otherwise, so the race can alternate "ours" and "ours
# with the change" in one process with warm caches on both sides. Installing returns a
# function that restores the original.


class Toggle:
    on = False


def cached_signing_key(toggle: Toggle) -> Callable[[], None]:
    """service_tokens: parse each signing-secret version once (today: two json.loads per call,
    in `signing_secret_kid` and `parse_signing_secret`), keyed on the SecretString itself."""
    from authorizer import service_tokens as module  # noqa: PLC0415
    from shared.secret_formats import SigningKey  # noqa: PLC0415

    service_tokens: Any = module  # patched in place, restored by the returned function
    parse: Callable[[str], SigningKey] = service_tokens.parse_signing_secret
    kid_of: Callable[[str], str | None] = service_tokens.signing_secret_kid
    cached_parse = lru_cache(maxsize=16)(parse)
    cached_kid = lru_cache(maxsize=16)(kid_of)

    def parse_switch(text: str) -> SigningKey:
        return cached_parse(text) if toggle.on else parse(text)

    def kid_switch(text: str) -> str | None:
        return cached_kid(text) if toggle.on else kid_of(text)

    service_tokens.parse_signing_secret = parse_switch
    service_tokens.signing_secret_kid = kid_switch

    def restore() -> None:
        service_tokens.parse_signing_secret, service_tokens.signing_secret_kid = parse, kid_of

    return restore


CHANGES: dict[str, Callable[[Toggle], Callable[[], None]]] = {
    # Applied since: the memoized policy (authorizer/policy.py; its compiled wildcard patterns
    # have since given way to `permits`), and the audit line written directly
    # (shared.observability.write_audit).
    "cached signing key": cached_signing_key,
}


def gains(world: World, rounds: int, batch: int) -> dict[str, dict[str, Any]]:
    """For each change and scheme: median us of ours without and with it, raced."""
    ours = install_ours(world)
    events: dict[str, list[dict[str, Any]]] = {}
    for scheme in ("HS256", "RS256", "api_key"):
        creds = world.api_keys if scheme == "api_key" else _tokens(world, scheme, 32)
        events[scheme] = [fixtures.event_for(scheme, c) for c in creds]
    results: dict[str, dict[str, Any]] = {}
    for name, change in CHANGES.items():
        toggle = Toggle()
        restore = change(toggle)
        results[name] = {}
        try:
            for scheme, evs in events.items():
                _, medians = race(_pair(ours, evs, toggle), rounds, batch)
                before = statistics.median(medians["ours"]) / 1000
                after = statistics.median(medians["changed"]) / 1000
                results[name][scheme] = {"before_us": before, "after_us": after}
        finally:
            restore()
    return results


def _tokens(world: World, scheme: str, count: int) -> list[str]:
    return [world.factory.token(scheme) for _ in range(count)]


def _pair(
    ours: Callable[[dict[str, Any]], dict[str, Any]], evs: list[dict[str, Any]], toggle: Toggle
) -> dict[str, Callable[[int], object]]:
    n = len(evs)

    def base(i: int) -> object:
        toggle.on = False
        return json.dumps(ours(evs[i % n]))

    def changed(i: int) -> object:
        toggle.on = True
        return json.dumps(ours(evs[i % n]))

    return {"ours": base, "changed": changed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    rounds, batch, n = (2, 20, 200) if args.smoke else (20, 200, 3000)
    fixtures.apply_env()
    world = build_world()
    ours = install_ours(world)
    profiles: list[str] = []
    with contextlib.redirect_stdout(world.sink):
        for scheme in ("HS256", "RS256", "api_key"):
            creds = world.api_keys if scheme == "api_key" else _tokens(world, scheme, 32)
            evs = [fixtures.event_for(scheme, c) for c in creds]
            shares = profile(lambda i, evs=evs: json.dumps(ours(evs[i % len(evs)])), n)  # type: ignore[misc]
            profiles.append(f"profile of ours, {scheme} (share of the whole call under cProfile):")
            profiles += [f"  {label:<40} {share:5.1f}%" for label, share in shares.items()]
        costs = component_costs(world, rounds, batch)
        found = gains(world, rounds, batch)
    print("\n".join(profiles))
    print("unprofiled cost of each call (median us, raced):")
    for name, cost in costs.items():
        print(f"  {name:<44} {cost:7.1f}")
    print("proposed changes, raced against today's handler (median us per invocation):")
    for name, per_scheme in found.items():
        cells = "  ".join(
            f"{s}: {r['before_us']:.0f} -> {r['after_us']:.0f} us "
            f"({100 * (r['after_us'] / r['before_us'] - 1):+.0f}%)"
            for s, r in per_scheme.items()
        )
        print(f"{name:<20} {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
