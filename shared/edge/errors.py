"""What can go wrong at the edge: WAF or DynamoDB refusing (the shared dependency errors), an IP
set that stayed contended, and a threat feed that could not be used."""

from __future__ import annotations

from shared.api_errors import DependencyBusyError


class IpSetContendedError(DependencyBusyError):
    """Another writer changed the IP set between every read and write we tried (a stale
    `LockToken` each time); the next scheduled run tries again."""

    code = "ip_set_contended"


class FeedError(Exception):
    """A threat feed could not be downloaded or parsed; nothing was written.

    `reason` is a stable code for the log and the alarm (`http_status`, `timeout`, `too_large`,
    `truncated`, `not_text`, `html`, `malformed_line`, `empty`, `unreachable`, `deadline`,
    `untrusted_url`); `detail` a short explanation that never holds the feed's body (at most
    an excerpt of one line).
    """

    def __init__(
        self, reason: str, detail: str = "", *, feed: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.feed = feed
        self.line = line

    def of(self, feed: str) -> FeedError:
        """The same error, naming the feed it came from."""
        self.feed = feed
        return self
