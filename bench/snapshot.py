"""Figure 9: the security snapshot's memory under a flood of source addresses (tracemalloc).

The real `Guard` with its real caps, against an instant in-memory table that holds `flood`
distinct source IPs locked in the current window and as many revocations, while `flood`
failures from distinct IPs each reach the threshold (threshold 1) and a valid API key is used
from `flood` distinct IPs. What the guard holds afterwards is measured with tracemalloc (the
bytes allocated since before the guard was built and still alive), with the entries of each
structure against its cap. Past a cap nothing grows: the snapshot keeps `SOURCE_CAP` locked
IPs and marks itself incomplete (an IP not listed has its counter read per request), drops
its revocations past `REVOCATION_CAP` (read per request), and the memos evict their oldest.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

from bench import fixtures

ITEMS_PER_PAGE = 1000  # DynamoDB pages at 1 MB; smaller pages only add calls, not memory


class FloodTable:
    """Answers the guard's calls at once: `size` locked IPs (IPv6, the longest strings), `size`
    active revocations, every failure counted once, every seen-source put a new source."""

    def __init__(self, size: int, now: float) -> None:
        self.size, self.expires = size, {"N": str(int(now) + 3600)}

    def query(self, IndexName: str, **kwargs: Any) -> Any:
        start = int(kwargs.get("ExclusiveStartKey", {}).get("n", {}).get("N", "0"))
        end = min(self.size, start + ITEMS_PER_PAGE, start + int(kwargs.get("Limit", 10**9)))
        if IndexName == "RevocationsByKind":
            items = [
                {"pk": {"S": f"revoked#jti#{n:032x}"}, "expires_at": self.expires}
                for n in range(start, end)
            ]
        else:
            items = [{"ip": {"S": _ipv6(0xFFFF, n)}} for n in range(start, end)]
        page: dict[str, Any] = {"Items": items}
        if end < self.size:
            page["LastEvaluatedKey"] = {"n": {"N": str(end)}}
        return page

    def update_item(self, **_: Any) -> Any:
        return {"Attributes": {"count": {"N": "1"}}}

    def put_item(self, **_: Any) -> Any:
        return {}

    def get_item(self, **_: Any) -> Any:
        return {"Item": {"count": {"N": "1"}}}


def _ipv6(prefix: int, n: int) -> str:
    """A distinct, full-length IPv6 address (the longest strings a source IP can be)."""
    return f"2001:db8:{prefix:x}:{n >> 16:x}:{n & 0xFFFF:x}:ffff:ffff:ffff"


def run(flood: int = 100_000) -> dict[str, Any]:
    fixtures.apply_env()
    from bench.contenders import redirect_logs  # noqa: PLC0415

    redirect_logs(fixtures.Sink())  # the over-cap warning is expected here
    from authorizer import guard as guard_module  # noqa: PLC0415
    from authorizer.guard import Guard, Subject  # noqa: PLC0415
    from shared.settings import SecuritySettings  # noqa: PLC0415

    now = time.time()
    settings = SecuritySettings(table_name=fixtures.SECURITY_TABLE, lockout_threshold=1)
    table = FloodTable(flood, now)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        guard = Guard(settings, lambda: table, wall_clock=lambda: now)
        guard.refresh_if_due()
        snapshot_bytes = tracemalloc.get_traced_memory()[0] - baseline
        for n in range(flood):
            ip = _ipv6(0xEEEE, n)
            guard.record_failure(ip)
            guard.note_source(Subject(ip, key_id="abcdefghijklmnop"))
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    snapshot = guard.snapshot
    assert snapshot is not None
    return {
        "flood": flood,
        "caps": {
            "revocations": guard_module.REVOCATION_CAP,
            "locked_sources": guard_module.SOURCE_CAP,
            "memo": guard_module.MEMO_CAP,
        },
        "entries": {
            "locked_sources": len(snapshot.locked.ips),
            "revocations": None if snapshot.revoked is None else len(snapshot.revoked),
            "locked_here": len(guard._locked_here),
            "seen": len(guard._seen),
        },
        "locked_sources_complete": snapshot.locked.complete,
        "snapshot_mb": snapshot_bytes / 2**20,
        "held_mb": (held - baseline) / 2**20,
        "peak_mb": (peak - baseline) / 2**20,
        "revocations_at_cap_mb": _revocations_at_cap(guard_module.REVOCATION_CAP, now),
    }


def _revocations_at_cap(cap: int, now: float) -> float:
    """The snapshot's memory with exactly `cap` revocations (and no locked source)."""
    from authorizer.guard import Guard  # noqa: PLC0415
    from shared.settings import SecuritySettings  # noqa: PLC0415

    class Revocations(FloodTable):
        def query(self, IndexName: str, **kwargs: Any) -> Any:
            if IndexName != "RevocationsByKind":
                return {"Items": []}
            return super().query(IndexName, **kwargs)

    table = Revocations(cap, now)
    settings = SecuritySettings(table_name=fixtures.SECURITY_TABLE)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        guard = Guard(settings, lambda: table, wall_clock=lambda: now)
        guard.refresh_if_due()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert guard.snapshot is not None
    assert guard.snapshot.revoked is not None
    assert len(guard.snapshot.revoked) == cap
    return held / 2**20
