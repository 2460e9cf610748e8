"""The `BlockedSources` sweeper: the lockouts of the current window, copied into WAF.

Why a scheduled sweep rather than DynamoDB Streams on the counters (docs/security.md, "Edge
defence"): a lockout must also *leave* WAF when its window ends, and nothing is written then
(the counter simply stops counting; its TTL deletion comes up to days later, and so would its
stream record). A sweep that recomputes the sets from the `LockedSources` index both adds and
removes, converges after any missed run, and is one query plus at most two writes a minute.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared import aws
from shared.api_errors import DependencyBusyError, DependencyFailedError
from shared.edge.ip_sets import IpSetPair, SetChange, replace_addresses
from shared.security_table import locked_sources
from shared.settings import WAF_IP_SET_CAPACITY, ConfigurationError, EdgeSettings

DYNAMODB = aws.Boundary(
    "dynamodb", "DynamoDB", busy=DependencyBusyError, failed=DependencyFailedError
)


def blocked_sets(settings: EdgeSettings) -> IpSetPair:
    """The two `BlockedSources` IP sets."""
    v4, v6 = settings.blocked_sources_ipv4_arn, settings.blocked_sources_ipv6_arn
    return IpSetPair.from_arns(v4, v6, "BLOCKED_SOURCES")


@dataclass(frozen=True, slots=True)
class SourceAddresses:
    """Locked source IPs as WAF addresses: IPv4 as /32, IPv6 as /128, each family capped."""

    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    dropped: int
    """Locked sources left out past a set's capacity (the highest addresses of the family)."""
    invalid: int
    """Counter items whose `ip` is not an IP address (never written to WAF)."""


def as_addresses(ips: Iterable[str], cap: int = WAF_IP_SET_CAPACITY) -> SourceAddresses:
    """Every valid IP as a host network of its family, sorted by address; past `cap` per family
    the lowest `cap` addresses are kept, deterministically."""
    v4: set[ipaddress.IPv4Address] = set()
    v6: set[ipaddress.IPv6Address] = set()
    invalid = 0
    for ip in ips:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            invalid += 1
            continue
        # An IPv4-mapped IPv6 source (::ffff:192.0.2.1) is the IPv4 host it maps.
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if isinstance(address, ipaddress.IPv4Address):
            v4.add(address)
        else:
            v6.add(address)
    kept4, kept6 = sorted(v4)[:cap], sorted(v6)[:cap]
    dropped = len(v4) - len(kept4) + len(v6) - len(kept6)
    return SourceAddresses(
        ipv4=tuple(f"{a}/32" for a in kept4),
        ipv6=tuple(f"{a}/128" for a in kept6),
        dropped=dropped,
        invalid=invalid,
    )


@dataclass(frozen=True, slots=True)
class SweepResult:
    window: int
    until: int
    """When the current window's lockouts end (Unix seconds)."""
    locked: int
    complete: bool
    """False when the index listed more sources than the sweep reads (twice a set's capacity)."""
    dropped: int
    invalid: int
    ipv4: SetChange
    ipv6: SetChange

    @property
    def added(self) -> int:
        return self.ipv4.added + self.ipv6.added

    @property
    def removed(self) -> int:
        return self.ipv4.removed + self.ipv6.removed


def sweep(
    dynamodb: Any, waf: Any, settings: EdgeSettings, sets: IpSetPair, *, now: float
) -> SweepResult:
    """Make the `BlockedSources` sets hold exactly the sources locked out in the window `now`
    falls in: new lockouts are added, those whose window ended are removed."""
    security = settings.security
    if security.table_name is None:
        raise ConfigurationError("SECURITY_TABLE_NAME must be set")
    with DYNAMODB.translated():
        locked = locked_sources(
            dynamodb,
            security.table_name,
            now=now,
            window_seconds=security.lockout_window_seconds,
            threshold=security.lockout_threshold,
            cap=2 * WAF_IP_SET_CAPACITY,
        )
    addresses = as_addresses(locked.ips)
    return SweepResult(
        window=locked.window,
        until=locked.until(security.lockout_window_seconds),
        locked=len(locked.ips),
        complete=locked.complete,
        dropped=addresses.dropped,
        invalid=addresses.invalid,
        ipv4=replace_addresses(waf, sets.ipv4, addresses.ipv4),
        ipv6=replace_addresses(waf, sets.ipv6, addresses.ipv6),
    )
