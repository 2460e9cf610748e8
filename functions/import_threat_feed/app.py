"""Lambda entry point of the threat-feed importer (scheduled by `ThreatFeedSchedule`).

Downloads `THREAT_FEED_URLS` and replaces the WAF `ThreatFeed` IP sets' contents; the logic is
`shared.edge.import_feeds`. Every run writes one audit line: the counts added and removed, or
why nothing changed. A feed that cannot be used changes nothing and is counted as
`ThreatFeedImportFailed` (alarmed); the run still ends normally, since retrying at once would
download the same broken feed. A WAF or configuration failure is counted the same way and
re-raised, for the function's Errors metric.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from shared import edge
from shared.api_errors import ApiError
from shared.observability import logger, metrics, write_audit
from shared.settings import ConfigurationError, EdgeSettings

FAILED = "ThreatFeedImportFailed"
#: How many dropped networks (past a set's capacity) the audit line names, widest first.
DROPPED_SHOWN = 5


class Importer:
    """The importer's client and settings, built once per container."""

    def __init__(self, settings: EdgeSettings, waf: Any) -> None:
        self.settings = settings
        self.waf = waf

    def run(self) -> edge.ImportResult | None:
        """None when no feed is configured (nothing to do, nothing written)."""
        if not self.settings.threat_feed_urls:
            return None
        return edge.import_feeds(
            self.waf,
            edge.feed_sets(self.settings),
            self.settings.threat_feed_urls,
            edge.FeedLimits.from_settings(self.settings),
        )


_importer: Importer | None = None


def importer() -> Importer:
    """One per container, created on first use (not at import: the build's smoke test imports
    every function without its environment); tests may set `_importer` beforehand."""
    global _importer  # noqa: PLW0603 - the per-container cache of a client
    if _importer is None:
        _importer = Importer(EdgeSettings.from_env(), edge.WAF.client())
    return _importer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        result = importer().run()
    except edge.FeedError as error:
        return _failed(error.reason, error.feed, error.detail, error.line)
    except Exception as error:
        known = isinstance(error, ApiError | ConfigurationError)
        _failed(type(error).__name__, None, str(error) if known else "", None)
        raise
    if result is None:
        metrics.add_metric(name="ThreatFeedImportSkipped", unit=MetricUnit.Count, value=1)
        logger.info("no threat feed configured")
        write_audit("threat feed import", outcome="skipped", feeds=0, added=0, removed=0)
        return {"outcome": "skipped", "added": 0, "removed": 0}
    metrics.add_metric(name="ThreatFeedImported", unit=MetricUnit.Count, value=1)
    summary: dict[str, Any] = {
        "outcome": "imported",
        "feeds": result.feeds,
        "listed": result.listed,
        "added": result.added,
        "removed": result.removed,
        "ipv4": result.ipv4.size,
        "ipv6": result.ipv6.size,
        "written": result.ipv4.written or result.ipv6.written,
        "dropped": len(result.dropped_ipv4) + len(result.dropped_ipv6),
    }
    write_audit("threat feed import", **summary)
    if summary["dropped"]:
        logger.warning(
            "threat feed networks dropped past the WAF set capacity",
            dropped_ipv4=len(result.dropped_ipv4),
            dropped_ipv6=len(result.dropped_ipv6),
            first_dropped=[*result.dropped_ipv4, *result.dropped_ipv6][:DROPPED_SHOWN],
        )
    return summary


def _failed(reason: str, feed: str | None, detail: str, line: int | None) -> dict[str, Any]:
    metrics.add_metric(name=FAILED, unit=MetricUnit.Count, value=1)
    logger.error("threat feed import failed", reason=reason, feed=feed, detail=detail, line=line)
    write_audit("threat feed import", level="ERROR", outcome="failed", reason=reason, feed=feed)
    return {"outcome": "failed", "reason": reason, "feed": feed, "added": 0, "removed": 0}
