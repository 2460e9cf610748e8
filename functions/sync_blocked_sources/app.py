"""Lambda entry point of the `BlockedSources` sweeper (scheduled by EventBridge every minute).

Copies the current window's lockouts into the WAF `BlockedSources` IP sets, and removes those
whose window ended; the logic is `shared.edge.sweep`. One audit line per run gives the counts
added and removed. A failure is counted as `BlockedSourcesSyncFailed` and re-raised, so the
function's Errors metric (and its alarm) sees it; the next run converges anyway.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from shared import aws, edge
from shared.api_errors import ApiError
from shared.observability import logger, metrics, write_audit
from shared.settings import ConfigurationError, EdgeSettings


class Sweeper:
    """The sweeper's clients and settings, built once per container."""

    def __init__(self, settings: EdgeSettings, dynamodb: Any, waf: Any) -> None:
        self.settings = settings
        self.sets = edge.blocked_sets(settings)
        self.dynamodb = dynamodb
        self.waf = waf

    def run(self, now: float) -> edge.SweepResult:
        return edge.sweep(self.dynamodb, self.waf, self.settings, self.sets, now=now)


_sweeper: Sweeper | None = None


def sweeper() -> Sweeper:
    """One per container, created on first use (not at import: the build's smoke test imports
    every function without its environment); tests may set `_sweeper` beforehand."""
    global _sweeper  # noqa: PLW0603 - the per-container cache of clients
    if _sweeper is None:
        _sweeper = Sweeper(EdgeSettings.from_env(), aws.client("dynamodb"), edge.WAF.client())
    return _sweeper


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        result = sweeper().run(time.time())
    except Exception as error:  # every failure is counted and re-raised, whatever its kind
        metrics.add_metric(name="BlockedSourcesSyncFailed", unit=MetricUnit.Count, value=1)
        logger.error("blocked sources sync failed", **_reason(error))
        raise
    metrics.add_metric(name="BlockedSourcesSynced", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="BlockedSources", unit=MetricUnit.Count, value=result.locked)
    summary: dict[str, Any] = {
        "window": result.window,
        "until": result.until,
        "locked": result.locked,
        "added": result.added,
        "removed": result.removed,
        "ipv4": result.ipv4.size,
        "ipv6": result.ipv6.size,
        "written": result.ipv4.written or result.ipv6.written,
        "dropped": result.dropped,
        "complete": result.complete,
    }
    write_audit("blocked sources synced", **summary, invalid=result.invalid or None)
    if result.dropped or not result.complete:
        logger.warning("more sources locked than the WAF sets hold", **summary)
    return summary


def _reason(error: Exception) -> dict[str, Any]:
    """A stable code, and for our own errors their detail (an AWS error code, a setting's
    name); never the text of anything else, which could echo a value."""
    known = isinstance(error, ApiError | ConfigurationError)
    return {"reason": type(error).__name__, "detail": str(error) if known else ""}
