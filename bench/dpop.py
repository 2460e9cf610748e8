"""Figure 10: what sender-constrained tokens (DPoP, RFC 9449) cost.

Warm: the real handler with the security table on and `DPOP_MODE=optional`, per token scheme,
racing (as figures 1-3 do) a bearer call of an unbound token against a DPoP call of a bound one
(the same token scheme, a fresh ES256 proof each call, made before the race): the DPoP call adds
the proof's verification and one conditional write of its `jti` to the replay cache. The table
is answered in memory, as for "ours+guard": this is the CPU cost; on AWS the write adds one
DynamoDB `PutItem` round trip per request (a DPoP request is never network-free). "proof" is
`shared.dpop.verify_proof` alone.

Cache: with a proof per request, no authorizer answer can be reused: `optional` sets the bearer
authorizer's TTL to 0 (so a cached policy never lets a bound token pass without its proof),
and `required` keys the cache on the proof too. Both mean one authorizer invocation per request;
the figure-6 workload says how many that is next to a TTL of `TTL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import statistics
from collections.abc import Callable, Iterator
from typing import Any

from bench import fixtures
from bench.cache_sim import TTL_SECONDS, identity_keys, minimum_invocations
from bench.contenders import World, _redirect
from bench.fixtures import FakeDynamoDB
from bench.warm import p99, race_with_cpu

SCHEMES = ("HS256", "ES256")
CONTENDERS = ("bearer", "dpop", "proof")
BASE_URL = "https://api.bench.example/v1"
PATH = "/api/workflows/wf-1/runs"


class ReplayTable(FakeDynamoDB):
    """`FakeDynamoDB`'s steady state, plus a real single-use store for conditional puts."""

    def __init__(self) -> None:
        super().__init__()
        self.markers: set[str] = set()

    def put_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        key = kwargs["Item"]["pk"]["S"]
        if kwargs.get("ConditionExpression") and key in self.markers:
            from botocore.exceptions import ClientError  # noqa: PLC0415

            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "exists"}},
                "PutItem",
            )
        self.markers.add(key)
        return {}


def install(world: World, table: ReplayTable) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The real handler, DPoP optional, security table on (in memory)."""
    from authorizer import app  # noqa: PLC0415 - after fixtures.apply_env()
    from authorizer.authorize import Authorizer  # noqa: PLC0415
    from authorizer.guard import Guard  # noqa: PLC0415
    from authorizer.jwks import JwksCache  # noqa: PLC0415
    from authorizer.secret_store import SecretStore  # noqa: PLC0415
    from shared.observability import logger  # noqa: PLC0415
    from shared.settings import AuthorizerSettings  # noqa: PLC0415

    env = {
        **fixtures.BASE_ENV,
        "SECURITY_TABLE_NAME": fixtures.SECURITY_TABLE,
        "DPOP_MODE": "optional",
        "PUBLIC_BASE_URL": BASE_URL,
    }
    settings = AuthorizerSettings.from_env(env)
    store = SecretStore(settings.secret_cache_seconds, client_factory=lambda: world.secrets)
    authorizer = Authorizer(
        settings,
        store=store,
        jwks=JwksCache(settings, fetch=world.jwks),
        guard=Guard(settings.security, client_factory=lambda: table),
    )
    _redirect(logger, world.sink)

    def ours(event: dict[str, Any]) -> dict[str, Any]:
        app.AUTHORIZER = authorizer
        result: dict[str, Any] = app.lambda_handler(event, None)
        return result

    return ours


class ProofClient:
    """A DPoP client with one ES256 key (RFC 9449 section 4.2)."""

    def __init__(self) -> None:
        import jwt  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

        from shared.dpop import thumbprint  # noqa: PLC0415

        self._jwt = jwt
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jkt = thumbprint(self.jwk)
        self._serial = itertools.count()

    def proof(self, method: str, url: str, token: str) -> str:
        import time  # noqa: PLC0415

        from shared.dpop import access_token_hash  # noqa: PLC0415

        claims = {
            "jti": f"bench-proof-{next(self._serial)}",
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
            "ath": access_token_hash(token),
        }
        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return str(self._jwt.encode(claims, self.key, "ES256", headers=headers))


def run(world: World, rounds: int, batch: int, minutes: float) -> dict[str, Any]:
    table = ReplayTable()
    ours = install(world, table)
    client = ProofClient()
    calls = (rounds + 1) * batch + 1  # the race's rounds, its warm-up round and one check
    results: dict[str, Any] = {}
    for scheme in SCHEMES:
        bearer_token = world.factory.token(scheme, "workflow:read")
        bound = world.factory.token(scheme, "workflow:read", extra={"cnf": {"jkt": client.jkt}})
        url = BASE_URL + PATH
        proofs = [client.proof("GET", url, bound) for _ in range(calls)]
        bearer_event = fixtures.event_for(scheme, bearer_token, "GET", PATH)
        dpop_events = [_dpop_event(scheme, bound, proof) for proof in proofs]
        contenders = {
            "bearer": _always(ours, bearer_event),
            "dpop": _each(ours, iter(dpop_events)),
            "proof": _verify_each(iter(proofs), url, bound),
        }
        with contextlib.redirect_stdout(world.sink):
            for name in ("bearer", "dpop"):
                policy = json.loads(str(contenders[name](0)))
                assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow", name
            contenders["proof"](0)
            writes_before = len(table.markers)
            samples, medians, cpu = race_with_cpu(contenders, rounds, batch)
        assert len(table.markers) - writes_before == (rounds + 1) * batch  # one write per call
        results[scheme] = _summary(samples, medians, cpu)
    results["cache"] = _cache_cost(world, minutes)
    return results


def _dpop_event(scheme: str, token: str, proof: str) -> dict[str, Any]:
    event = fixtures.event_for(scheme, token, "GET", PATH)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    return event


def _always(
    handler: Callable[[dict[str, Any]], dict[str, Any]], event: dict[str, Any]
) -> Callable[[int], object]:
    return lambda _: json.dumps(handler(event))


def _each(
    handler: Callable[[dict[str, Any]], dict[str, Any]], events: Iterator[dict[str, Any]]
) -> Callable[[int], object]:
    return lambda _: json.dumps(handler(next(events)))


def _verify_each(proofs: Iterator[str], url: str, token: str) -> Callable[[int], object]:
    import time  # noqa: PLC0415

    from shared import dpop  # noqa: PLC0415

    def verify(_: int) -> object:
        return dpop.verify_proof(
            next(proofs), method="GET", url=url, now=time.time(), max_age=300, skew=60,
            access_token=token,
        )  # fmt: skip

    return verify


def _summary(
    samples: dict[str, list[int]], medians: dict[str, list[float]], cpu: dict[str, list[int]]
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        name: {
            "median_us": statistics.median(times) / 1000,
            "p99_us": p99(times) / 1000,
            "cpu_median_us": statistics.median(cpu[name]) / 1000,
            "n": len(times),
        }
        for name, times in samples.items()
    }
    extra = [d - b for d, b in zip(medians["dpop"], medians["bearer"], strict=True)]
    ratio = [d / b for d, b in zip(medians["dpop"], medians["bearer"], strict=True)]
    summary["dpop"]["extra_us"] = statistics.median(extra) / 1000
    summary["dpop"]["x_bearer"] = statistics.median(ratio)
    return summary


def _cache_cost(world: World, minutes: float) -> dict[str, Any]:
    """Authorizer invocations per 10k requests of the figure-6 workload, cached (the template's
    TTL) and uncached (`optional`'s TTL 0, or any DPoP request)."""
    keys = identity_keys(world, minutes)
    total = len(keys)
    cached = minimum_invocations(keys, TTL_SECONDS) * 10_000 / total
    uncached = minimum_invocations(keys, 0) * 10_000 / total
    return {
        "requests": total,
        "ttl_seconds": TTL_SECONDS,
        "cached_per_10k": cached,
        "ttl0_per_10k": uncached,
        "x_cached": uncached / cached,
    }
