"""Property tests over the lockout keys and counters, with an in-memory table."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from authorizer.guard import Guard, Subject
from shared.security_table import ip_failures_key
from shared.settings import SecuritySettings

THRESHOLD, WINDOW = 3, 60


class MemoryTable:
    """Just enough of DynamoDB's low-level API for the guard."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        ((table, request),) = RequestItems.items()
        keys = [key["pk"]["S"] for key in request["Keys"]]
        return {"Responses": {table: [self.items[k] for k in keys if k in self.items]}}

    def update_item(
        self, Key: dict[str, Any], ExpressionAttributeValues: dict[str, Any], **_: Any
    ) -> Any:
        pk = Key["pk"]["S"]
        item = self.items.setdefault(pk, {"pk": {"S": pk}, "count": {"N": "0"}})
        item["count"] = {"N": str(int(item["count"]["N"]) + 1)}
        item["expires_at"] = ExpressionAttributeValues[":expires"]
        return {"Attributes": {"count": item["count"]}}

    def put_item(self, Item: dict[str, Any], **_: Any) -> Any:
        self.items[Item["pk"]["S"]] = Item


ips = st.sampled_from(["198.51.100.1", "198.51.100.2", "2001:db8::1", "a#1", "a"])
claimed = st.none() | st.sampled_from(["alice", "alice#1", "abcdefghijklmnop", "a"])
events = st.lists(
    st.tuples(ips, claimed, st.integers(min_value=0, max_value=3 * WINDOW)), max_size=40
)


@given(events)
def test_lock_state_matches_a_simple_model(sequence: list[tuple[str, str | None, int]]) -> None:
    """After any sequence of failures, a source is locked exactly when its IP has THRESHOLD
    failures in the current window, whatever identity the failed credentials claimed: a
    claimed subject or key id never locks anybody out."""
    clock = [0.0]
    guard = Guard(
        SecuritySettings(
            table_name="t", lockout_threshold=THRESHOLD, lockout_window_seconds=WINDOW
        ),
        MemoryTable,
        wall_clock=lambda: clock[0],
    )
    model: Counter[tuple[str, int]] = Counter()
    for ip, subject, at in sorted(sequence, key=lambda event: event[2]):
        clock[0] = float(at)
        window = at // WINDOW
        guard.record_failure(ip)
        model[ip, window] += 1
        for probe in ("198.51.100.1", "203.0.113.9"):
            precheck = guard.precheck(Subject(probe, subject=subject, key_id=subject))
            assert guard.is_locked(precheck) == (model[probe, window] >= THRESHOLD)


@given(
    st.text(max_size=40), st.integers(min_value=0), st.text(max_size=40), st.integers(min_value=0)
)
def test_counter_keys_never_collide(a: str, wa: int, b: str, wb: int) -> None:
    if (a, wa) != (b, wb):
        assert ip_failures_key(a, wa) != ip_failures_key(b, wb)
