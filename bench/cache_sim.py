"""Figure 6: cache efficiency under API Gateway's authorizer result cache.

MINIMAL SIMULATION of API Gateway (REST) authorizer result caching, written here because the
local gateway's cache is not used here: the cache key is (authorizer, identity
source value), an entry lives `TTL_SECONDS` (the template's `ReauthorizeEvery` default, read
from template.yaml; API Gateway's own default is 300 s), and a cached policy is evaluated for
every route of that authorizer (explicit Deny wins, then Allow, else 403; `*` in a resource
matches any characters). Unauthorized is not
cached here (all simulated credentials are valid, so it never arises).

Workload: 50 clients for 30 simulated minutes, each calling every route it holds a credential
for (concrete paths over a few workflow ids), exponential think times. 20 clients hold HS256
service tokens, 20 OAuth tokens (RS256/ES256/EdDSA), 10 an API key plus an HS256 token;
scopes vary (admin, read, trigger, narrowed, none), so many requests are rightly 403.

An oracle asks the authorizer about each request with no cache (memoized per credential and
path: the answer is deterministic); a false 403 is a request the oracle allows and the cached
gateway refuses, a false allow the reverse. Contenders:
- ours: the real handler, cached per credential;
- per-route policy cached per credential: the same decisions, but the policy lists only the
  invoked route (what the naive reference returns) - the classic cache bug;
- per-route policy cached per credential and request path (the cache made correct for it).
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import fixtures
from bench.contenders import World, add_api_key, install_ours

TTL_SECONDS = fixtures.REAUTHORIZE_EVERY
SCOPES = (
    "workflow:admin",
    "workflow:read",
    "workflow:trigger",
    "workflow:read:wf-1 workflow:trigger:wf-2",
    "",
)
WORKFLOWS = ("wf-1", "wf-2", "wf-3")


@dataclass(frozen=True)
class Client:
    bearer: str | None
    api_key: str | None


@dataclass(frozen=True)
class Request:
    at: float
    client: int
    method: str
    path: str


def _clients(world: World) -> list[Client]:
    clients = []
    for number in range(50):
        scope = SCOPES[number % len(SCOPES)]
        if number < 20:
            clients.append(Client(world.factory.token("HS256", scope, f"svc-{number}"), None))
        elif number < 40:
            alg = ("RS256", "ES256", "EdDSA")[number % 3]
            clients.append(Client(world.factory.token(alg, scope, f"app-{number}"), None))
        else:
            key = add_api_key(world, scopes=("workflow:read",))
            token = world.factory.token("HS256", "workflow:read", f"int-{number}")
            clients.append(Client(token, key))
    return clients


def _concrete(path: str, rng: random.Random) -> str:
    path = path.replace("{workflowId}", rng.choice(WORKFLOWS))
    path = path.replace("{runId}", f"run-{rng.randint(1, 5)}")
    return path.replace("{keyId}", "k" * 16)


def workload(clients: list[Client], minutes: float, seed: int = 7) -> list[Request]:
    from shared.routes import ROUTES, AuthorizerName  # noqa: PLC0415

    rng = random.Random(seed)
    requests: list[Request] = []
    for number, client in enumerate(clients):
        routes = [
            r
            for r in ROUTES
            # Routes without an authorizer (the token service) never reach the authorizer.
            if r.guarded
            and (client.bearer if r.authorizer is AuthorizerName.BEARER else client.api_key)
        ]
        at = rng.uniform(0, 5)
        while at < minutes * 60:
            route = rng.choice(routes)
            requests.append(Request(at, number, route.method, _concrete(route.path, rng)))
            at += rng.expovariate(1 / 4.0)  # one request every 4 s on average
    requests.sort(key=lambda r: r.at)
    return requests


def _matches(pattern: str, arn: str) -> bool:
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), arn) is not None


def evaluate(policy: dict[str, Any] | None, arn: str) -> int:
    """API Gateway's answer for `arn` under `policy` (None: Unauthorized)."""
    if policy is None:
        return 401
    allowed = False
    for statement in policy["policyDocument"]["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if any(_matches(r, arn) for r in resources):
            if statement["Effect"] == "Deny":
                return 403
            allowed = True
    return 200 if allowed else 403


def per_route(policy: dict[str, Any], arn: str) -> dict[str, Any]:
    """The same decision as a policy for the invoked route only (the naive reference's shape)."""
    status = evaluate(policy, arn)
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [arn]}
    if status != 200:
        statement["Effect"] = "Deny"
    return {**policy, "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}


class Gateway:
    """API Gateway's authorizer result cache, as described in the module docstring."""

    def __init__(self, authorize: Callable[[dict[str, Any], str], dict[str, Any] | None]) -> None:
        self._authorize = authorize
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any] | None]] = {}
        self.invocations = 0

    def call(self, key: tuple[str, ...], at: float, event: dict[str, Any], arn: str) -> int:
        cached = self._cache.get(key)
        if cached is None or at >= cached[0]:
            self.invocations += 1
            cached = (at + TTL_SECONDS, self._authorize(event, arn))
            self._cache[key] = cached
        return evaluate(cached[1], arn)


def minimum_invocations(keys: list[tuple[float, tuple[str, ...]]], ttl: int = TTL_SECONDS) -> int:
    """One invocation per credential per TTL window: a perfect cache's fills (with TTL 0, one
    per request: API Gateway then caches nothing)."""
    expiry: dict[tuple[str, ...], float] = {}
    fills = 0
    for at, key in keys:
        if key not in expiry or at >= expiry[key]:
            fills += 1
            expiry[key] = at + ttl
    return fills


def identity_keys(world: World, minutes: float) -> list[tuple[float, tuple[str, ...]]]:
    """(time, cache key) of every request of the workload, as the gateway would key it."""
    from shared.routes import AuthorizerName, find_route  # noqa: PLC0415

    clients = _clients(world)
    keys: list[tuple[float, tuple[str, ...]]] = []
    for request in workload(clients, minutes):
        found = find_route(request.method, request.path)
        assert found is not None
        authorizer = found[0].authorizer
        client = clients[request.client]
        credential = client.bearer if authorizer is AuthorizerName.BEARER else client.api_key
        keys.append((request.at, (authorizer.value, str(credential))))
    return keys


def run(world: World, minutes: float = 30.0) -> dict[str, Any]:
    from shared.routes import IDENTITY_HEADER, AuthorizerName, find_route  # noqa: PLC0415

    ours = install_ours(world)
    clients = _clients(world)
    requests = workload(clients, minutes)
    oracle_memo: dict[tuple[str, str, str], dict[str, Any] | None] = {}

    def decide(event: dict[str, Any], arn: str) -> dict[str, Any] | None:
        try:
            return ours(event)
        except Exception as error:
            if str(error) != "Unauthorized":
                raise
            return None

    def decide_per_route(event: dict[str, Any], arn: str) -> dict[str, Any] | None:
        policy = decide(event, arn)
        return None if policy is None else per_route(policy, arn)

    gateways = {
        "ours": Gateway(decide),
        "per_route_cached_per_credential": Gateway(decide_per_route),
        "per_route_cached_per_credential_and_path": Gateway(decide_per_route),
    }
    wrong = {name: {"false_403": 0, "false_allow": 0} for name in gateways}
    identity_keys: list[tuple[float, tuple[str, ...]]] = []
    allowed = 0
    with contextlib.redirect_stdout(world.sink):
        for request in requests:
            client = clients[request.client]
            found = find_route(request.method, request.path)
            assert found is not None
            authorizer = found[0].authorizer
            credential = client.bearer if authorizer is AuthorizerName.BEARER else client.api_key
            assert credential is not None
            header = IDENTITY_HEADER[authorizer]
            value = f"Bearer {credential}" if header == "Authorization" else credential
            event = fixtures.event_for("", "", request.method, request.path)
            event["headers"] = {header: value}
            event["multiValueHeaders"] = {header: [value]}
            arn = event["methodArn"]
            memo_key = (value, request.method, request.path)
            if memo_key not in oracle_memo:
                oracle_memo[memo_key] = decide(event, arn)
            expected = evaluate(oracle_memo[memo_key], arn)
            allowed += expected == 200
            key = (authorizer.value, value)
            identity_keys.append((request.at, key))
            for name, gateway in gateways.items():
                cache_key = (*key, request.method, request.path) if name.endswith("path") else key
                got = gateway.call(cache_key, request.at, event, arn)
                if expected == 200 and got != 200:
                    wrong[name]["false_403"] += 1
                if expected != 200 and got == 200:
                    wrong[name]["false_allow"] += 1
    total = len(requests)
    minimum = minimum_invocations(identity_keys)
    result: dict[str, Any] = {
        "clients": len(clients),
        "minutes": minutes,
        "ttl_seconds": TTL_SECONDS,
        "requests": total,
        "allowed_by_oracle": allowed,
        "minimum_per_10k": minimum * 10_000 / total,
    }
    for name, gateway in gateways.items():
        result[name] = {
            "invocations_per_10k": gateway.invocations * 10_000 / total,
            "x_minimum": gateway.invocations / minimum,
            **wrong[name],
        }
    return result
