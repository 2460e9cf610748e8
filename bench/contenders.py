"""Wiring the three contenders (floor, naive reference, ours) to the same keys, the same
credentials and the same null stream, with every cache prefilled and no network.

Ours is the real `authorizer.app.lambda_handler`: only its module-level `AUTHORIZER` is
rebuilt with the injection points the tests use (`SecretStore(client_factory=...)`,
`JwksCache(fetch=...)`), so the handler, its decorators, the audit line and the EMF blob are
exactly what Lambda runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import fixtures
from bench.fixtures import FakeDynamoDB, FakeJwks, FakeSecretsManager, Keys, Sink, TokenFactory


@dataclass
class World:
    keys: Keys
    factory: TokenFactory
    sink: Sink
    secrets: FakeSecretsManager
    jwks: FakeJwks
    dynamo: FakeDynamoDB = field(default_factory=FakeDynamoDB)
    api_keys: list[str] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_world(api_key_count: int = 16) -> World:
    keys = fixtures.make_keys()
    world = World(keys, TokenFactory(keys), Sink(), FakeSecretsManager(), FakeJwks(keys.jwks))
    world.secrets.put(fixtures.JWT_SECRET_ID, fixtures.signing_secret_string(keys))
    for _ in range(api_key_count):
        add_api_key(world)
    return world


def add_api_key(world: World, scopes: tuple[str, ...] = ("workflow:read",)) -> str:
    key, name, secret_string = fixtures.api_key_record(scopes=scopes)
    world.secrets.put(name, secret_string)
    record = json.loads(secret_string)
    world.api_keys.append(key)
    world.records[name.rsplit("/", 1)[-1]] = record
    return key


def install_ours(world: World, guard: bool = False) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Import the real handler and give its `AUTHORIZER` in-memory dependencies.

    `guard=True` also turns on the security table (`SECURITY_TABLE_NAME`), answered by an
    in-memory DynamoDB: the guard's own CPU cost on the warm path (its snapshot is refreshed
    every `SECURITY_REFRESH_SECONDS`; figure 7 counts what that costs). The returned
    callable puts its authorizer in place before each call, so both variants can alternate.
    """
    from authorizer import app  # noqa: PLC0415 - after fixtures.apply_env()
    from authorizer.authorize import Authorizer  # noqa: PLC0415
    from authorizer.guard import Guard  # noqa: PLC0415
    from authorizer.jwks import JwksCache  # noqa: PLC0415
    from authorizer.secret_store import SecretStore  # noqa: PLC0415
    from shared.observability import logger  # noqa: PLC0415
    from shared.settings import AuthorizerSettings  # noqa: PLC0415

    env = dict(fixtures.BASE_ENV)
    if guard:
        env["SECURITY_TABLE_NAME"] = fixtures.SECURITY_TABLE
        env.update(fixtures.DEPLOYED_SECURITY_ENV)
    settings = AuthorizerSettings.from_env(env)
    store = SecretStore(settings.secret_cache_seconds, client_factory=lambda: world.secrets)
    authorizer = Authorizer(
        settings,
        store=store,
        jwks=JwksCache(settings, fetch=world.jwks),
        guard=Guard(settings.security, client_factory=lambda: world.dynamo),
    )
    app.AUTHORIZER = authorizer
    _redirect(logger, world.sink)

    def ours(event: dict[str, Any]) -> dict[str, Any]:
        app.AUTHORIZER = authorizer
        result: dict[str, Any] = app.lambda_handler(event, None)
        return result

    return ours


def install_naive(world: World) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from bench import naive_authorizer as naive  # noqa: PLC0415

    naive.secrets_provider.client = world.secrets  # type: ignore[assignment]
    naive.jwks_client.fetch_data = lambda: world.jwks(naive.jwks_client.uri)  # type: ignore[method-assign]
    _redirect(naive.logger, world.sink)

    def reference(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = naive.lambda_handler(event, None)
        return result

    return reference


def redirect_logs(sink: Sink) -> None:
    """Send our handler's audit lines to the sink."""
    from shared.observability import logger  # noqa: PLC0415

    _redirect(logger, sink)


def _redirect(logger: Any, sink: Sink) -> None:
    """Powertools' Logger binds its stream at creation; point it at the sink."""
    handler = logger.registered_handler
    handler.setStream(sink)


def allow_resources(policy: dict[str, Any]) -> list[str]:
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow", statement
    return list(statement["Resource"])
