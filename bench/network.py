"""Figure 7: network calls on the warm path, counted (target: zero).

The real handler with its real dependencies: a boto3 Secrets Manager client pointed at moto
(`AWS_ENDPOINT_URL`) and the real JWKS fetcher pointed at a loopback server; with the security
table on, a boto3 DynamoDB client on moto's table as template.yaml declares it. After one
first call per scheme fills the caches (and loads the security snapshot), every TCP connect
(`socket.socket.connect`), every botocore API call and every `urllib.request.urlopen` is
counted while the warm calls run. The window is kept shorter than the snapshot's refresh
period and the secret cache's age (`SECURITY_REFRESH_SECONDS`, `POWERTOOLS_PARAMETERS_MAX_AGE`,
as template.yaml sets them); what each costs when it comes due is then shown by moving the
caches' clock past it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

from bench import fixtures
from bench.contenders import World, redirect_logs
from bench.servers import Loopback


@contextlib.contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count connects, botocore API calls and urlopen calls while the block runs."""
    from botocore.client import BaseClient  # noqa: PLC0415

    counts: Counter[str] = Counter()
    # Any-typed handles: these are monkeypatches of library internals, undone on exit.
    sock: Any = socket.socket
    client: Any = BaseClient
    request: Any = urllib.request
    originals = (sock.connect, client._make_api_call, request.urlopen)

    def connect(self: socket.socket, address: Any) -> None:
        counts["tcp_connect"] += 1
        originals[0](self, address)

    def api_call(self: Any, operation: str, params: Any) -> Any:
        counts[f"aws:{operation}"] += 1
        return originals[1](self, operation, params)

    def urlopen(*args: Any, **kwargs: Any) -> Any:
        counts["urlopen"] += 1
        return originals[2](*args, **kwargs)

    sock.connect, client._make_api_call, request.urlopen = connect, api_call, urlopen
    try:
        yield counts
    finally:
        sock.connect, client._make_api_call, request.urlopen = originals


def run(world: World, loop: Loopback, seconds: float) -> dict[str, Any]:
    """Ours as configured by default; then with the security table on (moto DynamoDB)."""
    result = _measure(world, loop, seconds, guard=False)
    result["guard"] = _measure(world, loop, seconds, guard=True)
    return result


def _measure(world: World, loop: Loopback, seconds: float, *, guard: bool) -> dict[str, Any]:
    from authorizer import app  # noqa: PLC0415
    from authorizer.authorize import Authorizer  # noqa: PLC0415
    from authorizer.guard import Guard  # noqa: PLC0415
    from authorizer.jwks import JwksCache  # noqa: PLC0415
    from authorizer.secret_store import SecretStore  # noqa: PLC0415
    from shared.settings import AuthorizerSettings  # noqa: PLC0415

    redirect_logs(world.sink)
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    def wall_clock() -> float:
        return time.time() + offset[0]

    previous_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = loop.moto_url
    env = {**fixtures.BASE_ENV, "OAUTH_JWKS_URI": loop.jwks_url}
    if guard:
        env["SECURITY_TABLE_NAME"] = fixtures.SECURITY_TABLE
        env.update(fixtures.DEPLOYED_SECURITY_ENV)
    settings = AuthorizerSettings.from_env(env)
    store = SecretStore(settings.secret_cache_seconds, clock=clock)  # real boto3 clients
    saved = app.AUTHORIZER
    app.AUTHORIZER = Authorizer(
        settings,
        store=store,
        jwks=JwksCache(settings, clock=clock),
        guard=Guard(settings.security, wall_clock=wall_clock),  # real boto3 client
    )
    events = {
        scheme: [
            fixtures.event_for(
                scheme, loop.api_key if scheme == "api_key" else world.factory.token(scheme)
            )
            for _ in range(1 if scheme == "api_key" else 32)
        ]
        for scheme in fixtures.SCHEMES
    }
    result: dict[str, Any] = {"window_seconds": seconds}
    try:
        with contextlib.redirect_stdout(world.sink):
            with counting() as fill:
                for scheme in fixtures.SCHEMES:
                    app.lambda_handler(events[scheme][0], None)
            result["first_calls"] = dict(fill)
            with counting() as warm:
                invocations, started = 0, time.monotonic()
                while time.monotonic() < started + seconds:
                    for scheme in fixtures.SCHEMES:
                        batch = events[scheme]
                        app.lambda_handler(batch[invocations % len(batch)], None)
                        invocations += 1
                elapsed = time.monotonic() - started
            result["warm_invocations"] = invocations
            result["warm_mean_us"] = 1e6 * elapsed / invocations
            result["warm_calls"] = dict(warm)
            result["warm_total"] = sum(warm.values())
            result["warm_calls_per_call"] = result["warm_total"] / invocations
            if guard:
                refresh = settings.security.refresh_seconds
                offset[0] = refresh + 0.1
                with counting() as due:
                    for scheme in fixtures.SCHEMES:
                        app.lambda_handler(events[scheme][0], None)
                result["after_refresh"] = dict(due)
                result["refresh_seconds"] = refresh
            offset[0] = settings.secret_cache_seconds + 0.1
            with counting() as expired:
                for scheme in fixtures.SCHEMES:
                    app.lambda_handler(events[scheme][0], None)
            result["after_secret_max_age"] = dict(expired)
            result["secret_max_age_seconds"] = settings.secret_cache_seconds
    finally:
        app.AUTHORIZER = saved
        if previous_endpoint is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = previous_endpoint
    return result
