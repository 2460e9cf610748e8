"""The `BlockedSources` sweeper against moto's WAFv2 and DynamoDB: a source locked out by
failures (counted by the authorizer's own counter) is in WAF after a sweep and leaves it when
its window ends; IPv6; the cap; a concurrent writer; no write when nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from functions.sync_blocked_sources import app
from shared.edge import IpSetContendedError, as_addresses, blocked_sets, sweep
from shared.security_table import MalformedAnswerError, count_failure
from shared.settings import ConfigurationError, EdgeSettings, SecuritySettings
from tests.conftest import LogLines
from tests.integration.edge.conftest import TABLE, Waf

WINDOW = 300
THRESHOLD = 3
NOW = 1_800_000_000.0  # a window starts here (a multiple of 300)


def settings(waf: Waf) -> EdgeSettings:
    return EdgeSettings(
        blocked_sources_ipv4_arn=waf.sets["BlockedSourcesIpv4"].arn,
        blocked_sources_ipv6_arn=waf.sets["BlockedSourcesIpv6"].arn,
        security=SecuritySettings(
            table_name=TABLE, lockout_threshold=THRESHOLD, lockout_window_seconds=WINDOW
        ),
    )


def fail(dynamodb: Any, ip: str, times: int = THRESHOLD, now: float = NOW) -> None:
    for _ in range(times):
        dynamodb.update_item(TableName=TABLE, **count_failure(ip, now, WINDOW))


def run(dynamodb: Any, waf: Waf, now: float = NOW, client: Any = None) -> Any:
    edge = settings(waf)
    return sweep(dynamodb, client or waf.client, edge, blocked_sets(edge), now=now)


def test_a_locked_source_is_blocked_until_its_window_ends(dynamodb: Any, waf: Waf) -> None:
    fail(dynamodb, "198.51.100.7")
    fail(dynamodb, "198.51.100.8", THRESHOLD - 1)  # under the threshold: not locked
    result = run(dynamodb, waf, now=NOW + 10)
    assert waf.addresses("BlockedSourcesIpv4") == {"198.51.100.7/32"}
    assert (result.added, result.removed, result.until) == (1, 0, NOW + WINDOW)

    # Still locked later in the same window: nothing to write.
    again = run(dynamodb, waf, now=NOW + WINDOW - 1)
    assert not again.ipv4.written
    assert not again.ipv6.written
    assert waf.addresses("BlockedSourcesIpv4") == {"198.51.100.7/32"}

    # The next window: its lockout ended (the counter item still exists: TTL is late).
    later = run(dynamodb, waf, now=NOW + WINDOW)
    assert waf.addresses("BlockedSourcesIpv4") == set()
    assert (later.added, later.removed) == (0, 1)


def test_ipv6_sources_go_to_the_ipv6_set_as_single_hosts(dynamodb: Any, waf: Waf) -> None:
    fail(dynamodb, "2001:db8::7")
    fail(dynamodb, "2001:DB8:0:0::8")
    fail(dynamodb, "::ffff:192.0.2.9")  # an IPv4 source seen through a dual stack
    run(dynamodb, waf)
    assert waf.addresses("BlockedSourcesIpv6") == {"2001:db8::7/128", "2001:db8::8/128"}
    assert waf.addresses("BlockedSourcesIpv4") == {"192.0.2.9/32"}


def test_past_a_sets_capacity_the_lowest_addresses_are_kept() -> None:
    ips = [f"10.0.{n // 256}.{n % 256}" for n in range(30)] + ["2001:db8::1", "not-an-ip"]
    capped = as_addresses(reversed(ips), cap=25)
    assert capped.ipv4 == tuple(f"10.0.0.{n}/32" for n in range(25))
    assert capped.ipv6 == ("2001:db8::1/128",)
    assert (capped.dropped, capped.invalid) == (5, 1)


def test_writes_replace_what_another_writer_left(dynamodb: Any, waf: Waf) -> None:
    waf.put("BlockedSourcesIpv4", ["203.0.113.0/24"])  # not a lockout: the sweeper owns the set
    fail(dynamodb, "198.51.100.7")
    result = run(dynamodb, waf)
    assert waf.addresses("BlockedSourcesIpv4") == {"198.51.100.7/32"}
    assert (result.ipv4.added, result.ipv4.removed) == (1, 1)


class StaleOnce:
    """A WAF client whose first read is followed by another writer's update, so the sweeper's
    `LockToken` is stale when it writes (as when two runs overlap)."""

    def __init__(self, waf: Waf, logical_id: str, addresses: list[str], times: int = 1) -> None:
        self.waf, self.logical_id, self.addresses, self.times = waf, logical_id, addresses, times
        self.updates = 0

    def get_ip_set(self, **kwargs: Any) -> Any:
        found = self.waf.client.get_ip_set(**kwargs)
        if self.times and kwargs["Id"] == self.waf.sets[self.logical_id].id:
            self.times -= 1
            self.waf.put(self.logical_id, self.addresses)
        return found

    def update_ip_set(self, **kwargs: Any) -> Any:
        self.updates += 1
        return self.waf.client.update_ip_set(**kwargs)


def test_a_stale_lock_token_is_retried_against_fresh_contents(dynamodb: Any, waf: Waf) -> None:
    fail(dynamodb, "198.51.100.7")
    client = StaleOnce(waf, "BlockedSourcesIpv4", ["203.0.113.5/32"])
    result = run(dynamodb, waf, client=client)
    assert waf.addresses("BlockedSourcesIpv4") == {"198.51.100.7/32"}
    # The second round diffed against what the other writer left, not the first read.
    assert result.ipv4.attempts == 2
    assert (result.ipv4.added, result.ipv4.removed) == (1, 1)


def test_a_retry_that_finds_the_work_done_writes_nothing(dynamodb: Any, waf: Waf) -> None:
    fail(dynamodb, "198.51.100.7")
    client = StaleOnce(waf, "BlockedSourcesIpv4", ["198.51.100.7/32"])
    result = run(dynamodb, waf, client=client)
    assert result.ipv4.attempts == 2
    assert not result.ipv4.written
    assert client.updates == 1  # only the refused first attempt


def test_a_set_that_stays_contended_fails_without_guessing(dynamodb: Any, waf: Waf) -> None:
    fail(dynamodb, "198.51.100.7")
    client = StaleOnce(waf, "BlockedSourcesIpv4", ["203.0.113.5/32"], times=99)
    with pytest.raises(IpSetContendedError):
        run(dynamodb, waf, client=client)
    assert waf.addresses("BlockedSourcesIpv4") == {"203.0.113.5/32"}


def test_a_query_answer_without_items_never_empties_the_sets(dynamodb: Any, waf: Waf) -> None:
    """A success without `Items` is not "nobody is locked": taken so, the sweep would unblock
    every locked source at the edge."""
    fail(dynamodb, "198.51.100.7")
    run(dynamodb, waf)

    class Hollow:
        def query(self, **kwargs: Any) -> Any:
            return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    with pytest.raises(MalformedAnswerError):
        run(Hollow(), waf, now=NOW + 10)
    assert waf.addresses("BlockedSourcesIpv4") == {"198.51.100.7/32"}


def test_the_handler_writes_one_audit_line_with_the_counts(
    dynamodb: Any, waf: Waf, log_lines: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr(app.time, "time", lambda: now)
    fail(dynamodb, "198.51.100.7", now=now)
    fail(dynamodb, "2001:db8::7", now=now)
    monkeypatch.setattr(app, "_sweeper", app.Sweeper(settings(waf), dynamodb, waf.client))
    summary = app.lambda_handler({"id": "event-1", "detail-type": "Scheduled Event"}, Context())
    assert summary["added"] == 2
    assert summary["removed"] == 0
    (audit,) = [line for line in log_lines() if line["message"] == "blocked sources synced"]
    assert (audit["added"], audit["removed"], audit["ipv4"], audit["ipv6"]) == (2, 0, 1, 1)
    assert audit["until"] == now + WINDOW


def test_the_handler_counts_and_reraises_a_failure(
    waf: Waf, log_lines: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Down:
        def query(self, **kwargs: Any) -> Any:
            from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

            raise EndpointConnectionError(endpoint_url="https://dynamodb")

    monkeypatch.setattr(app, "_sweeper", app.Sweeper(settings(waf), Down(), waf.client))
    with pytest.raises(Exception, match="DynamoDB unreachable"):
        app.lambda_handler({"id": "event-2"}, Context())
    (line,) = [line for line in log_lines() if line["message"] == "blocked sources sync failed"]
    assert line["reason"] == "DependencyBusyError"
    assert waf.addresses("BlockedSourcesIpv4") == set()


class Context:
    function_name = "sync-blocked-sources"
    memory_limit_in_mb = 512
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sync-blocked-sources"


def test_one_set_named_for_both_families_is_refused(waf: Waf) -> None:
    """Written as IPv6 after IPv4, one set would end up holding neither family's sources."""
    arn = waf.sets["BlockedSourcesIpv4"].arn
    edge = EdgeSettings(blocked_sources_ipv4_arn=arn, blocked_sources_ipv6_arn=arn)
    with pytest.raises(ConfigurationError, match="name one set"):
        blocked_sets(edge)


def test_sets_of_the_wrong_family_are_refused_before_any_write(dynamodb: Any, waf: Waf) -> None:
    """IPv4 and IPv6 set ARNs swapped in the configuration: nothing is written to either."""
    fail(dynamodb, "198.51.100.7")
    run(dynamodb, waf)
    swapped = EdgeSettings(
        blocked_sources_ipv4_arn=waf.sets["BlockedSourcesIpv6"].arn,
        blocked_sources_ipv6_arn=waf.sets["BlockedSourcesIpv4"].arn,
        security=settings(waf).security,
    )
    with pytest.raises(ConfigurationError, match="holds IPV6, not IPV4"):
        sweep(dynamodb, waf.client, swapped, blocked_sets(swapped), now=NOW + 10)
    assert waf.addresses("BlockedSourcesIpv4") == {"198.51.100.7/32"}
    assert waf.addresses("BlockedSourcesIpv6") == set()
