"""The one protocol for writing a WAF IP set: read it with its `LockToken`, compare, write only
when the contents change, and on a stale token read again and retry.

WAF guards every update with optimistic locking (AWS WAF API reference, "UpdateIPSet" and
"Temporary inconsistencies during updates"): an `UpdateIPSet` must carry the `LockToken` of the
`GetIPSet` it was computed from, and a token made stale by another writer is refused with
`WAFOptimisticLockException`. The new contents are computed again from a fresh read each time,
so a retry never writes a diff of stale contents. An update replaces the whole specification,
so the set's description is carried over from the read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

from shared import aws
from shared.api_errors import DependencyBusyError, DependencyFailedError
from shared.edge.errors import IpSetContendedError
from shared.settings import WAF_IP_SET_CAPACITY, ConfigurationError

WAF = aws.Boundary("wafv2", "WAF", busy=DependencyBusyError, failed=DependencyFailedError)
#: How many read-compare-write rounds one update tries before giving up on a contended set.
LOCK_ATTEMPTS = 5


class _StaleLockTokenError(Exception):
    """Internal: WAFOptimisticLockException, to be retried with a fresh read."""


#: WAF's own availability errors, which mean "retry later" here too.
_KNOWN = {
    "WAFOptimisticLockException": _StaleLockTokenError,
    "WAFInternalErrorException": DependencyBusyError,
    "WAFUnavailableEntityException": DependencyBusyError,
}


@dataclass(frozen=True, slots=True)
class IpSetRef:
    """One IP set, as the WAF API addresses it (name, id and scope), from its ARN."""

    name: str
    id: str
    scope: str
    arn: str
    version: str | None = None
    """`IPV4` or `IPV6` when the caller means one family: a set of the other is refused before
    anything is written (`replace_addresses`)."""

    @classmethod
    def from_arn(cls, arn: str, version: str | None = None) -> IpSetRef:
        """`arn:<partition>:wafv2:<region>:<account>:<regional|global>/ipset/<name>/<id>`."""
        parts = arn.split(":", 5)
        resource = parts[5].split("/") if len(parts) == 6 and parts[2] == "wafv2" else []
        if len(resource) != 4 or resource[1] != "ipset" or not all(resource):
            raise ConfigurationError(f"not a WAF IP set ARN: {arn!r}")
        scope = {"regional": "REGIONAL", "global": "CLOUDFRONT"}.get(resource[0])
        if scope is None:
            raise ConfigurationError(f"not a WAF IP set ARN: {arn!r}")
        return cls(name=resource[2], id=resource[3], scope=scope, arn=arn, version=version)

    def key(self) -> dict[str, str]:
        return {"Name": self.name, "Id": self.id, "Scope": self.scope}


@dataclass(frozen=True, slots=True)
class IpSetPair:
    """An IPv4 and an IPv6 IP set that hold one list together (WAF keeps each family in a set
    of its own)."""

    ipv4: IpSetRef
    ipv6: IpSetRef

    @classmethod
    def from_arns(cls, ipv4: str | None, ipv6: str | None, variable: str) -> Self:
        """The pair named by `<variable>_IPV4_SET_ARN` and `<variable>_IPV6_SET_ARN`."""
        if not ipv4 or not ipv6:
            raise ConfigurationError(
                f"{variable}_IPV4_SET_ARN and {variable}_IPV6_SET_ARN must be set"
            )
        if ipv4 == ipv6:  # else writing one family would wipe the other's addresses
            raise ConfigurationError(f"{variable}_IPV4_SET_ARN and _IPV6_SET_ARN name one set")
        return cls(IpSetRef.from_arn(ipv4, "IPV4"), IpSetRef.from_arn(ipv6, "IPV6"))


@dataclass(frozen=True, slots=True)
class SetChange:
    """What one update did to one IP set."""

    ip_set: str
    added: int
    removed: int
    size: int
    """Addresses in the set afterwards."""
    written: bool
    """False when the set already held exactly these addresses (no `UpdateIPSet` was made)."""
    attempts: int
    """Read-compare-write rounds it took (more than 1: another writer made a token stale)."""


def canonical(address: str) -> str:
    """One spelling per network (`2001:DB8:0::/32` -> `2001:db8::/32`), so that what WAF
    returns compares equal to what we computed."""
    return str(ipaddress.ip_network(address, strict=False))


def replace_addresses(
    client: Any, ip_set: IpSetRef, addresses: Iterable[str], *, attempts: int = LOCK_ATTEMPTS
) -> SetChange:
    """Make `ip_set` hold exactly `addresses` (CIDRs), writing only if that changes it.

    Raises `ValueError` past WAF's capacity (the caller caps and says what it dropped),
    `IpSetContendedError` when every attempt met a stale token, and the WAF boundary's
    `DependencyBusyError` / `DependencyFailedError` for anything else WAF refuses.
    """
    wanted = {canonical(address) for address in addresses}
    if len(wanted) > WAF_IP_SET_CAPACITY:
        raise ValueError(f"{len(wanted)} addresses, over the {WAF_IP_SET_CAPACITY} of a set")
    for attempt in range(1, attempts + 1):
        with WAF.translated(**_KNOWN):
            current = client.get_ip_set(**ip_set.key())
        version = current["IPSet"].get("IPAddressVersion")
        if ip_set.version is not None and version != ip_set.version:
            raise ConfigurationError(
                f"WAF IP set {ip_set.name} holds {version}, not {ip_set.version}"
            )
        held = {canonical(address) for address in current["IPSet"].get("Addresses", [])}
        change = SetChange(
            ip_set=ip_set.name,
            added=len(wanted - held),
            removed=len(held - wanted),
            size=len(wanted),
            written=held != wanted,
            attempts=attempt,
        )
        if not change.written:
            return change
        update: dict[str, Any] = {
            **ip_set.key(),
            "Addresses": sorted(wanted, key=_order),
            "LockToken": current["LockToken"],
        }
        description = current["IPSet"].get("Description")
        if description:
            update["Description"] = description
        try:
            with WAF.translated(**_KNOWN):
                client.update_ip_set(**update)
        except _StaleLockTokenError:
            continue
        return change
    raise IpSetContendedError(f"WAF IP set {ip_set.name}: stale LockToken {attempts} times")


def _order(address: str) -> tuple[int, int, int]:
    network = ipaddress.ip_network(address)
    return (network.version, int(network.network_address), network.prefixlen)
