"""Property tests over the lockout keys and counters, with an in-memory table."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from authorizer.guard import Guard
from shared.security_table import ip_failures_key
from shared.settings import SecuritySettings

THRESHOLD, WINDOW = 3, 60


class MemoryTable:
    """Just enough of DynamoDB's low-level API for the guard: counters, the `LockedSources`
    index (window key, count at or over a threshold) and an empty `RevocationsByKind`."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def update_item(
        self, Key: dict[str, Any], ExpressionAttributeValues: dict[str, Any], **_: Any
    ) -> Any:
        pk = Key["pk"]["S"]
        item = self.items.setdefault(pk, {"pk": {"S": pk}, "count": {"N": "0"}})
        item["count"] = {"N": str(int(item["count"]["N"]) + 1)}
        item["ip"] = ExpressionAttributeValues[":ip"]
        item["window_key"] = ExpressionAttributeValues[":w"]
        return {"Attributes": {"count": item["count"]}}

    def query(self, IndexName: str, ExpressionAttributeValues: dict[str, Any], **_: Any) -> Any:
        if IndexName != "LockedSources":
            return {"Items": []}
        window, threshold = ExpressionAttributeValues[":w"], ExpressionAttributeValues[":threshold"]
        return {
            "Items": [
                {"ip": item["ip"]}
                for item in self.items.values()
                if item.get("window_key") == window
                and int(item["count"]["N"]) >= int(threshold["N"])
            ]
        }


ips = st.sampled_from(["198.51.100.1", "198.51.100.2", "2001:db8::1", "a#1", "a"])
claimed = st.none() | st.sampled_from(["alice", "alice#1", "abcdefghijklmnop", "a"])
events = st.lists(
    st.tuples(ips, claimed, st.integers(min_value=0, max_value=3 * WINDOW)), max_size=40
)


@given(events)
def test_lock_state_matches_a_simple_model(sequence: list[tuple[str, str | None, int]]) -> None:
    """After any sequence of failures, a source is locked exactly when its IP has THRESHOLD
    failures in the current window, whatever identity the failed credentials claimed: a
    claimed subject or key id never locks anybody out. The container that counted the
    failures knows at once (its own writes' answers); another knows after a refresh (here
    `SECURITY_REFRESH_SECONDS` = 0: on every call)."""
    clock = [0.0]
    table = MemoryTable()

    def guard(refresh: int) -> Guard:
        settings = SecuritySettings(
            table_name="t",
            lockout_threshold=THRESHOLD,
            lockout_window_seconds=WINDOW,
            refresh_seconds=refresh,
            max_stale_seconds=3 * WINDOW,
        )
        return Guard(settings, lambda: table, wall_clock=lambda: clock[0])

    here, elsewhere = guard(refresh=10 * WINDOW), guard(refresh=0)
    model: Counter[tuple[str, int]] = Counter()
    for ip, _subject, at in sorted(sequence, key=lambda event: event[2]):
        clock[0] = float(at)
        window = at // WINDOW
        here.refresh_if_due()
        here.record_failure(ip)
        model[ip, window] += 1
        elsewhere.refresh_if_due()
        for probe in ("198.51.100.1", "203.0.113.9", ip):
            expected = model[probe, window] >= THRESHOLD
            assert here.is_locked(probe) == expected
            assert elsewhere.is_locked(probe) == expected


@given(
    st.text(max_size=40), st.integers(min_value=0), st.text(max_size=40), st.integers(min_value=0)
)
def test_counter_keys_never_collide(a: str, wa: int, b: str, wb: int) -> None:
    if (a, wa) != (b, wb):
        assert ip_failures_key(a, wa) != ip_failures_key(b, wb)
