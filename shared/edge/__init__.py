"""Edge defence: what the WAF web ACL blocks besides AWS's managed rules (docs/security.md,
"Edge defence").

- `ip_sets`: the one protocol for writing a WAF IP set (`LockToken` optimistic locking, no
  write when nothing changes);
- `blocked_sources`: the sweeper copying the current lockouts into the `BlockedSources` sets;
- `threat_feed`: the importer of Spamhaus DROP / FireHOL feeds into the `ThreatFeed` sets.
"""

from shared.edge.blocked_sources import SweepResult, as_addresses, blocked_sets, sweep
from shared.edge.errors import FeedError, IpSetContendedError
from shared.edge.ip_sets import WAF, IpSetPair, IpSetRef, SetChange, replace_addresses
from shared.edge.threat_feed import (
    FeedLimits,
    ImportResult,
    collapse_and_cap,
    feed_sets,
    fetch_feed,
    import_feeds,
    parse_feed,
)

__all__ = [
    "WAF",
    "FeedError",
    "FeedLimits",
    "ImportResult",
    "IpSetContendedError",
    "IpSetPair",
    "IpSetRef",
    "SetChange",
    "SweepResult",
    "as_addresses",
    "blocked_sets",
    "collapse_and_cap",
    "feed_sets",
    "fetch_feed",
    "import_feeds",
    "parse_feed",
    "replace_addresses",
    "sweep",
]
