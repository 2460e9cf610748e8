"""The threat-feed importer: download the configured feeds, validate every line, and replace
the `ThreatFeed` IP sets' contents with what they list.

Formats (one network per line, comments start with `;` or `#`):

- Spamhaus DROP: `1.10.16.0/20 ; SBL256894`, header lines starting with `;`;
- FireHOL netsets: `#` comment lines, then bare addresses or CIDRs (`192.0.2.1`, `1.10.16.0/20`).

All or nothing: every feed is downloaded and parsed before anything is written, so a feed that
fails (unreachable, an HTTP error, an HTML error page, a truncated or oversized body, one line
that is not an address, a server that hangs) leaves the sets exactly as they were. A body that
does not end with a newline is taken as cut short: both formats end every line with one, and a
cut inside the last line can still look like a valid, wider network (`1.10.16.0/2`).

Past WAF's 10,000 addresses per set (after merging adjacent and overlapping networks), the
widest networks are kept: the sort is by prefix length, then address, so the same feeds always
keep and drop the same networks, and what is dropped covers the fewest addresses.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.client import HTTPException, IncompleteRead
from typing import Any, TypeVar
from urllib.error import HTTPError, URLError

from shared.edge.errors import FeedError
from shared.edge.ip_sets import IpSetPair, SetChange, replace_addresses
from shared.settings import (
    WAF_IP_SET_CAPACITY,
    EdgeSettings,
    is_trusted_url,
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_N = TypeVar("_N", ipaddress.IPv4Network, ipaddress.IPv6Network)
#: A line longer than this is not an address, whatever it holds (and is never logged whole).
MAX_LINE_CHARS = 256
#: How much of a refused line the log may show.
EXCERPT_CHARS = 40
_CHUNK = 64 * 1024
_COMMENT = (";", "#")


def feed_sets(settings: EdgeSettings) -> IpSetPair:
    """The two `ThreatFeed` IP sets."""
    v4, v6 = settings.threat_feed_ipv4_arn, settings.threat_feed_ipv6_arn
    return IpSetPair.from_arns(v4, v6, "THREAT_FEED")


@dataclass(frozen=True, slots=True)
class FeedLimits:
    timeout_seconds: float
    max_bytes: int
    deadline_seconds: float

    @classmethod
    def from_settings(cls, settings: EdgeSettings) -> FeedLimits:
        return cls(
            settings.feed_timeout_seconds, settings.feed_max_bytes, settings.feed_deadline_seconds
        )


class _TrustedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL the feed itself could have been configured with."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if not is_trusted_url(newurl):
            raise FeedError("untrusted_url", f"redirect ({code}) to a non-https URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_feed(
    url: str, limits: FeedLimits, *, deadline: float, clock: Callable[[], float] = time.monotonic
) -> tuple[bytes, str]:
    """The feed's body and content type, read within `limits` and before `deadline` (a
    `clock()` value). Raises `FeedError`."""
    if not is_trusted_url(url):
        raise FeedError("untrusted_url", "not https (http only on loopback)")
    opener = urllib.request.build_opener(_TrustedRedirects())
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, headers={"Accept": "text/plain", "User-Agent": "workflow-api-threat-feed/1"}
    )
    try:
        timeout = _remaining(deadline, clock, limits.timeout_seconds)
        with opener.open(request, timeout=timeout) as response:
            content_type = response.headers.get_content_type()
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise FeedError("too_large", f"Content-Length {declared} > {limits.max_bytes}")
            body = bytearray()
            while True:
                _remaining(deadline, clock, limits.timeout_seconds)
                # read1: one socket read at most, so a server trickling bytes cannot hold a
                # read past the deadline check.
                chunk = response.read1(_CHUNK)
                if not chunk:
                    if declared and declared.isdigit() and len(body) != int(declared):
                        raise FeedError("truncated", f"{len(body)} of {declared} bytes")
                    return bytes(body), content_type
                body += chunk
                if len(body) > limits.max_bytes:
                    raise FeedError("too_large", f"more than {limits.max_bytes} bytes")
    except FeedError:
        raise
    except HTTPError as exc:
        raise FeedError("http_status", f"HTTP {exc.code}") from None
    except IncompleteRead:
        raise FeedError("truncated", "the connection closed before Content-Length") from None
    except TimeoutError:
        raise FeedError("timeout", f"no data within {limits.timeout_seconds} s") from None
    except URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FeedError("timeout", f"no answer within {limits.timeout_seconds} s") from None
        raise FeedError("unreachable", type(exc.reason).__name__) from None
    except (HTTPException, OSError) as exc:
        raise FeedError("unreachable", type(exc).__name__) from None


def _remaining(deadline: float, clock: Callable[[], float], timeout: float) -> float:
    left = deadline - clock()
    if left <= 0:
        raise FeedError("deadline", "the import's deadline passed")
    return min(timeout, left)


def parse_feed(body: bytes, content_type: str = "text/plain") -> list[Network]:
    """Every network a Spamhaus DROP or FireHOL netset body lists. Raises `FeedError` for a
    body that is not such a list, or for the first line that is not a network."""
    if content_type in ("text/html", "application/xhtml+xml"):
        raise FeedError("html", f"Content-Type {content_type}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FeedError("not_text", "the body is not UTF-8 text") from None
    if text and not text.endswith("\n"):
        raise FeedError("truncated", "the last line has no newline")
    networks: list[Network] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = _strip_comment(line)
        if not entry:
            continue
        networks.append(_network(entry, line, number))
    if not networks:
        raise FeedError("empty", "no network listed")
    return networks


def _strip_comment(line: str) -> str:
    cut = len(line)
    for marker in _COMMENT:
        found = line.find(marker)
        if found != -1:
            cut = min(cut, found)
    return line[:cut].strip()


def _network(entry: str, line: str, number: int) -> Network:
    if len(line) > MAX_LINE_CHARS or any(c.isspace() or c == "%" for c in entry):
        raise _malformed(line, number)
    try:
        # strict: `192.0.2.1/24` (host bits set) is not a network either format writes.
        network = ipaddress.ip_network(entry, strict=True)
    except ValueError:
        raise _malformed(line, number) from None
    if network.prefixlen == 0:
        # WAF refuses /0, and a feed listing "everything" is broken, not hostile.
        raise _malformed(line, number)
    return network


def _malformed(line: str, number: int) -> FeedError:
    excerpt = line[:EXCERPT_CHARS] + ("..." if len(line) > EXCERPT_CHARS else "")
    return FeedError("malformed_line", f"line {number}: {excerpt!r}", line=number)


@dataclass(frozen=True, slots=True)
class Capped:
    kept: tuple[str, ...]
    """The networks a set will hold, sorted by address."""
    dropped: tuple[str, ...]
    """What did not fit, narrowest last."""


def collapse_and_cap(networks: Iterable[_N], cap: int = WAF_IP_SET_CAPACITY) -> Capped:
    """Merge adjacent and overlapping networks of one family; past `cap`, keep the widest
    (then lowest) ones."""
    merged = list(ipaddress.collapse_addresses(networks))
    by_width = sorted(merged, key=lambda n: (n.prefixlen, int(n.network_address)))
    kept = sorted(by_width[:cap], key=lambda n: int(n.network_address))
    return Capped(kept=tuple(str(n) for n in kept), dropped=tuple(str(n) for n in by_width[cap:]))


@dataclass(frozen=True, slots=True)
class ImportResult:
    feeds: int
    listed: int
    """Networks the feeds listed, before merging."""
    ipv4: SetChange
    ipv6: SetChange
    dropped_ipv4: tuple[str, ...]
    dropped_ipv6: tuple[str, ...]

    @property
    def added(self) -> int:
        return self.ipv4.added + self.ipv6.added

    @property
    def removed(self) -> int:
        return self.ipv4.removed + self.ipv6.removed


Fetch = Callable[..., tuple[bytes, str]]


def import_feeds(
    waf: Any,
    sets: IpSetPair,
    urls: Sequence[str],
    limits: FeedLimits,
    *,
    fetch: Fetch = fetch_feed,
    clock: Callable[[], float] = time.monotonic,
) -> ImportResult:
    """Download and parse every feed, then replace both `ThreatFeed` sets. A `FeedError`
    (naming its feed) is raised before any write; WAF errors as `replace_addresses` says."""
    deadline = clock() + limits.deadline_seconds
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for url in urls:
        try:
            body, content_type = fetch(url, limits, deadline=deadline, clock=clock)
            networks = parse_feed(body, content_type)
        except FeedError as error:
            raise error.of(url) from None
        for network in networks:
            if isinstance(network, ipaddress.IPv4Network):
                v4.append(network)
            else:
                v6.append(network)
    capped4, capped6 = collapse_and_cap(v4), collapse_and_cap(v6)
    return ImportResult(
        feeds=len(urls),
        listed=len(v4) + len(v6),
        ipv4=replace_addresses(waf, sets.ipv4, capped4.kept),
        ipv6=replace_addresses(waf, sets.ipv6, capped6.kept),
        dropped_ipv4=capped4.dropped,
        dropped_ipv6=capped6.dropped,
    )
