"""The security snapshot (docs/architecture.md): no network call on the warm success path, a
revocation visible within `SECURITY_REFRESH_SECONDS`, stale-if-error up to
`SECURITY_MAX_STALE_SECONDS` then fail closed, lockouts shared between containers through the
table, and the caps, against DynamoDB in moto with the table as template.yaml declares it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from authorizer.authorize import Authorizer
from authorizer.guard import OVER_CAP_METRIC, Guard, Subject
from authorizer.secret_store import SecretStore
from shared import ApiKeyRecord, AuthorizerSettings
from shared.revocations import RevocationStore
from shared.security_table import count_failure, lockout_window
from shared.settings import SecuritySettings
from tests.integration.authorizer.conftest import JWT_ISSUER, Secrets
from tests.integration.authorizer.support import (
    Clock,
    CountingDynamo,
    api_key_event,
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)
from tests.integration.authorizer.test_guard import (
    TABLE,
    THRESHOLD,
    WINDOW,
    automate,
    forge_failures,
)

REFRESH, MAX_STALE = 5, 60
SECURITY = SecuritySettings(
    table_name=TABLE,
    lockout_threshold=THRESHOLD,
    lockout_window_seconds=WINDOW,
    refresh_seconds=REFRESH,
    max_stale_seconds=MAX_STALE,
)
Mint = Callable[..., str]
Build = Callable[..., Authorizer]


class Switch:
    """The table's client, or an unreachable endpoint when `down`."""

    def __init__(self, client: Any) -> None:
        self.client, self.down = client, False

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            if self.down:
                raise EndpointConnectionError(endpoint_url="https://dynamodb.example")
            return getattr(self.client, name)(**kwargs)

        return call


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.now = (int(clock.now) // WINDOW) * WINDOW + 1  # the start of a lockout window
    return clock


@pytest.fixture
def switch(dynamo: CountingDynamo) -> Switch:
    return Switch(dynamo)


@pytest.fixture
def container(settings: AuthorizerSettings, aws: Secrets, switch: Switch, clock: Clock) -> Build:
    """A new authorizer container (its own snapshot and memos) on the shared table."""

    def build(**caps: int) -> Authorizer:
        guard = Guard(SECURITY, lambda: switch, wall_clock=clock, **caps)
        return Authorizer(
            replace(settings, security=SECURITY),
            store=SecretStore(5, client_factory=lambda: aws.client),
            guard=guard,
        )

    return build


@pytest.fixture
def revocations(settings: AuthorizerSettings, dynamo: CountingDynamo, clock: Clock) -> Any:
    """The admin API's own store, writing to the same table."""
    return RevocationStore(replace(settings, security=SECURITY), dynamo.client, clock=clock)


@pytest.fixture
def api_key(aws: Secrets) -> str:
    record = ApiKeyRecord.issue("billing", [])
    aws.put_api_key(record)
    return record.api_key


def metric_names(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The metric names of the EMF blobs printed so far (Powertools prints them to stdout)."""
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    return [
        metric["Name"]
        for line in blobs
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", [])
        for metric in directive["Metrics"]
    ]


# --- the warm path --------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["jwt", "oauth", "api_key"])
def test_warm_success_path_makes_no_network_call(
    scheme: str, container: Build, dynamo: CountingDynamo, service_token: Mint,
    oauth_token: Mint, api_key: str, clock: Clock,
) -> None:  # fmt: skip
    authz = container()
    events = {
        "jwt": lambda n: automate(service_token(jti=f"j-{n}")),
        "oauth": lambda n: bearer("GET", "/api/secure-automate", oauth_token(jti=f"o-{n}")),
        "api_key": lambda n: api_key_event("GET", "/api/internal", api_key),
    }[scheme]
    assert authz.handle(events(0))
    # The first call of the container loads the snapshot (one Query per index); an API key's
    # first use from this IP adds one conditional put.
    first = ["query", "query"] + (["put_item"] if scheme == "api_key" else [])
    assert dynamo.calls == first
    dynamo.calls.clear()
    for n in range(1, 20):
        clock.now += 0.2  # 3.8 s: within SECURITY_REFRESH_SECONDS
        assert authz.handle(events(n))["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert dynamo.calls == []
    clock.now += REFRESH
    assert authz.handle(events(20))
    assert dynamo.calls == ["query", "query"]  # one refresh, on the call that found it old


# --- revocation -----------------------------------------------------------------------------


def test_a_revocation_is_refused_within_the_refresh_period_and_not_before(
    container: Build, revocations: RevocationStore, service_token: Mint, clock: Clock
) -> None:
    authz = container()
    token = service_token(jti="leaked-1")
    assert authz.handle(automate(token))
    exp = int(clock.now) + 300
    revocations.revoke({"jti": "leaked-1", "expiresAt": exp}, revoked_by="test")
    clock.now += REFRESH - 1
    assert authz.handle(automate(token))  # the snapshot is still the one loaded before
    clock.now += 1
    assert_unauthorized(authz, automate(token))
    assert authz.handle(automate(service_token(jti="other")))


def test_a_subject_revocation_through_the_store_refuses_older_tokens(
    container: Build, revocations: RevocationStore, service_token: Mint, clock: Clock
) -> None:
    authz = container()
    old = service_token(sub="svc-gone", iat=int(clock.now) - 120)
    revocations.revoke({"sub": "svc-gone", "scheme": "jwt"}, revoked_by="test")
    assert_unauthorized(authz, automate(old))  # the first call loads a snapshot that has it
    # The revocation's issuer is the configured one: the same key the authorizer looks up.
    assert authz.settings.issuer_of("jwt") == JWT_ISSUER


# --- the table down -------------------------------------------------------------------------


def test_a_stale_snapshot_is_used_until_the_max_then_tokens_fail_closed(
    container: Build, revocations: RevocationStore, switch: Switch, service_token: Mint,
    api_key: str, clock: Clock, log_lines: Callable[[], list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    revocations.revoke({"jti": "leaked-2", "expiresAt": int(clock.now) + 3000}, revoked_by="t")
    authz = container()
    assert authz.handle(automate(service_token()))
    switch.down = True
    clock.now += MAX_STALE  # every refresh in between failed: the last good one is used
    assert authz.handle(automate(service_token()))
    assert_unauthorized(authz, automate(service_token(jti="leaked-2")))  # still known revoked
    failed = [line for line in log_lines() if line.get("message") == "security table unavailable"]
    refreshes = [line for line in failed if "snapshot_age_seconds" in line]
    assert [line["snapshot_age_seconds"] for line in refreshes] == [MAX_STALE]
    assert "SecurityTableUnavailable" in metric_names(capsys)
    clock.now += 1  # older than SECURITY_MAX_STALE_SECONDS: bearer tokens fail closed
    assert_dependency_error(authz, automate(service_token()))
    decisions = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    assert decisions[-1]["reason"] == "security_table_unavailable"
    # API keys are revoked in Secrets Manager, not the table: they keep working.
    assert authz.handle(api_key_event("GET", "/api/internal", api_key))
    switch.down = False
    clock.now += REFRESH
    assert authz.handle(automate(service_token()))


def test_failed_refreshes_are_tried_at_most_once_per_refresh_period(
    container: Build, switch: Switch, service_token: Mint, clock: Clock, dynamo: CountingDynamo
) -> None:
    authz = container()
    switch.down = True
    for _ in range(5):
        assert_dependency_error(authz, automate(service_token()))  # never loaded: fail closed
    # The failed first load is not retried on every call (each would wait out the timeouts).
    clock.now += REFRESH
    switch.down = False
    assert authz.handle(automate(service_token()))
    assert dynamo.calls == ["query", "query"]


def test_lockout_uses_the_stale_snapshot_then_fails_open(
    container: Build, switch: Switch, service_token: Mint, clock: Clock
) -> None:
    a, b = container(), container()
    assert b.handle(automate(service_token(), ip="192.0.2.80"))
    for _ in range(THRESHOLD):
        assert_unauthorized(a, automate(service_token(key="x" * 40), ip="192.0.2.80"))
    clock.now += REFRESH
    assert_unauthorized(b, automate(service_token(), ip="192.0.2.80"))  # b's snapshot has it
    switch.down = True
    clock.now += MAX_STALE
    assert_unauthorized(b, automate(service_token(), ip="192.0.2.80"))  # stale, still used
    clock.now += 1
    # Past the max: the lockout fails open. (The token is then refused for its revocations.)
    assert_dependency_error(b, automate(service_token(), ip="192.0.2.80"))
    # The container that counted the failures still refuses from its own counter writes.
    assert_unauthorized(a, automate(service_token(), ip="192.0.2.80"))


# --- lockout across containers --------------------------------------------------------------


def test_a_locked_ip_is_refused_here_at_once_and_elsewhere_after_a_refresh(
    container: Build, service_token: Mint, clock: Clock,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:  # fmt: skip
    here, elsewhere = container(), container()
    attacker = "203.0.113.66"
    assert elsewhere.handle(automate(service_token(), ip=attacker))
    for _ in range(THRESHOLD):
        assert_unauthorized(here, automate(service_token(key="x" * 40), ip=attacker))
    assert_unauthorized(here, automate(service_token(), ip=attacker))
    assert elsewhere.handle(automate(service_token(), ip=attacker))  # not refreshed yet
    clock.now += REFRESH
    assert_unauthorized(elsewhere, automate(service_token(), ip=attacker))
    decisions = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    assert decisions[-1]["reason"] == "rate_limited"
    assert elsewhere.handle(automate(service_token(), ip="203.0.113.67"))  # other IPs pass
    # The lockout ends with its window, on both containers.
    clock.now = (lockout_window(clock.now, WINDOW) + 1) * WINDOW + 1
    assert here.handle(automate(service_token(), ip=attacker))
    assert elsewhere.handle(automate(service_token(), ip=attacker))


def test_forged_failures_naming_a_victim_never_lock_the_victim_on_any_container(
    container: Build, aws: Secrets, service_token: Mint, clock: Clock
) -> None:
    attacker, victim_ip = container(), container()
    record = forge_failures(attacker, aws, service_token, "198.51.100.")
    clock.now += REFRESH
    for authz in (attacker, victim_ip):
        assert authz.handle(api_key_event("GET", "/api/internal", record.api_key))
        assert authz.handle(automate(service_token(sub="svc-payments")))


# --- the caps -------------------------------------------------------------------------------


def test_past_the_revocation_cap_a_revoked_token_is_still_refused(
    container: Build, revocations: RevocationStore, service_token: Mint, clock: Clock,
    dynamo: CountingDynamo, log_lines: Callable[[], list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for n in range(4):
        revocations.revoke({"jti": f"r-{n}", "expiresAt": int(clock.now) + 300}, revoked_by="t")
    authz = container(revocation_cap=3)
    for n in range(4):
        assert_unauthorized(authz, automate(service_token(jti=f"r-{n}")))
    assert authz.handle(automate(service_token(jti="fine")))
    assert authz.guard.snapshot is not None
    assert authz.guard.snapshot.revoked is None
    # Per request: one BatchGetItem of the token's revocation items (and each refusal's one
    # counter write).
    reads = [call for call in dynamo.calls if call != "update_item"]
    assert reads == ["query", "query"] + ["batch_get_item"] * 5
    over = [line for line in log_lines() if line.get("message", "").startswith("security snap")]
    assert len(over) == 1  # once per refresh, not per request
    assert over[0]["parts"] == ["revocations"]
    assert metric_names(capsys).count(OVER_CAP_METRIC) == 1


def test_past_the_source_cap_a_locked_ip_is_still_refused(
    container: Build, dynamo: CountingDynamo, service_token: Mint, clock: Clock
) -> None:
    locked = [f"203.0.113.{n}" for n in range(6)]
    for ip in locked:
        for _ in range(THRESHOLD):
            dynamo.client.update_item(TableName=TABLE, **count_failure(ip, clock.now, WINDOW))
    authz = container(source_cap=2)
    for ip in locked:
        assert_unauthorized(authz, automate(service_token(), ip=ip))
    assert authz.handle(automate(service_token(), ip="192.0.2.1"))
    snapshot = authz.guard.snapshot
    assert snapshot is not None
    assert not snapshot.locked.complete
    assert len(snapshot.locked.ips) == 2
    # The IPs not listed had their counter read (one GetItem each), as did the unlocked one.
    assert dynamo.calls.count("get_item") == len(locked) - 2 + 1


def test_a_flood_of_sources_never_grows_the_guard_past_its_caps(clock: Clock) -> None:
    """100,000 failures (each locking its IP, threshold 1), 100,000 locked IPs in the index
    and 100,000 (key id, IP) pairs: every structure the guard holds stays within its cap
    (its memory under that flood, with the real caps, is measured by `make bench`)."""
    cap = 50

    class Flood:
        """A table that answers instantly: 100,000 locked sources, every put a new source."""

        def update_item(self, **_: Any) -> Any:
            return {"Attributes": {"count": {"N": "1"}}}

        def query(self, IndexName: str, **_: Any) -> Any:
            if IndexName == "RevocationsByKind":
                return {"Items": []}
            return {"Items": [{"ip": {"S": f"10.{n >> 16}.{n >> 8 & 255}.{n & 255}"}}
                              for n in range(100_000)]}  # fmt: skip

        def put_item(self, **_: Any) -> Any:
            return {}

        def get_item(self, **_: Any) -> Any:
            return {"Item": {"count": {"N": "1"}}}

    settings = replace(SECURITY, lockout_threshold=1)
    guard = Guard(settings, Flood, wall_clock=clock, source_cap=cap, memo_cap=cap)
    guard.refresh_if_due()
    for n in range(100_000):
        ip = f"172.16.{n >> 8 & 255}.{n & 255}#{n}"
        assert guard.record_failure(ip)
        assert guard.note_source(Subject(ip, key_id="abcdefghijklmnop"))
        assert len(guard._locked_here) <= cap
        assert len(guard._seen) <= cap
    assert guard.snapshot is not None
    assert len(guard.snapshot.locked.ips) == cap
    assert guard.is_locked(ip)  # the latest is held
    # An evicted one is not in the (capped, incomplete) snapshot either: its counter is read.
    assert guard.is_locked("172.16.0.0#0")


# --- answers that are not DynamoDB's ------------------------------------------------------------


class Hollow:
    """The table's client, except that the named operations answer with success and nothing
    else (`{}`), as a proxy or a stand-in endpoint may: never DynamoDB's own answer, which
    always holds `Items` (Query) and every requested table's `Responses` (BatchGetItem)."""

    def __init__(self, client: Any, *operations: str) -> None:
        self.client, self.operations = client, operations

    def __getattr__(self, name: str) -> Any:
        if name in self.operations:
            return lambda **kwargs: {"ResponseMetadata": {"HTTPStatusCode": 200}}
        return getattr(self.client, name)


def test_a_query_answer_without_items_is_no_empty_revocation_list(
    settings: AuthorizerSettings, aws: Secrets, dynamo: CountingDynamo, clock: Clock,
    revocations: RevocationStore, service_token: Mint,
) -> None:  # fmt: skip
    revocations.revoke({"jti": "leaked-3", "expiresAt": int(clock.now) + 3000}, revoked_by="t")
    hollow = Hollow(dynamo, "query")
    guard = Guard(SECURITY, lambda: hollow, wall_clock=clock)
    authz = Authorizer(
        replace(settings, security=SECURITY),
        store=SecretStore(5, client_factory=lambda: aws.client),
        guard=guard,
    )
    # No snapshot was ever read: fail closed, never "nothing is revoked".
    assert_dependency_error(authz, automate(service_token(jti="leaked-3")))
    # With a good snapshot, a hollow refresh is a failed one: the last good snapshot holds.
    hollow.operations = ()
    clock.now += REFRESH
    assert_unauthorized(authz, automate(service_token(jti="leaked-3")))
    hollow.operations = ("query",)
    clock.now += REFRESH
    assert_unauthorized(authz, automate(service_token(jti="leaked-3")))


def test_past_the_cap_a_batch_get_answer_without_responses_fails_closed(
    settings: AuthorizerSettings, aws: Secrets, dynamo: CountingDynamo, clock: Clock,
    revocations: RevocationStore, service_token: Mint,
) -> None:  # fmt: skip
    for n in range(3):
        revocations.revoke({"jti": f"r-{n}", "expiresAt": int(clock.now) + 300}, revoked_by="t")
    hollow = Hollow(dynamo, "batch_get_item")
    guard = Guard(SECURITY, lambda: hollow, wall_clock=clock, revocation_cap=2)
    authz = Authorizer(
        replace(settings, security=SECURITY),
        store=SecretStore(5, client_factory=lambda: aws.client),
        guard=guard,
    )
    assert_dependency_error(authz, automate(service_token(jti="r-0")))
