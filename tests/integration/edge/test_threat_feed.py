"""The threat-feed importer against a real HTTP server on loopback serving feeds in their real
formats (Spamhaus DROP, FireHOL netsets), and broken ones: every failure leaves the WAF sets
exactly as they were and is reported (the alarm's metric and a log line)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.import_threat_feed import app
from shared.settings import EdgeSettings
from tests.conftest import LogLines
from tests.integration.edge.conftest import Waf

SPAMHAUS_DROP = b"""; Spamhaus DROP List 2026/01/31 - (c) 2026 The Spamhaus Project SLU
; https://www.spamhaus.org/drop/drop.txt
; Last-Modified: Sat, 31 Jan 2026 12:00:00 GMT
; Expires: Sat, 31 Jan 2026 13:00:00 GMT
1.10.16.0/20 ; SBL256894
1.19.0.0/16 ; SBL434604
2.56.192.0/22 ; SBL459831
"""
FIREHOL = b"""#
# firehol_level1
# ipv4 hash:net ipset
#
# Maintainer: FireHOL
#
198.51.100.7
203.0.113.0/25
203.0.113.128/25
1.10.16.0/21
"""
FIREHOL_V6 = b"""# an IPv6 netset
2001:db8::/32
2001:db8:1::/48
2001:db9::1
"""
#: 50,000 distinct /32s in 10.0.0.0 - 10.0.195.79: adjacent, so they collapse to few networks.
LARGE = b"# large\n" + b"".join(f"10.0.{n // 256}.{n % 256}\n".encode() for n in range(50_000))
#: 50,000 /32s that do not collapse (every other address): over the 10,000 of a set.
SPARSE = b"# sparse\n" + b"".join(
    f"10.{n // 32768}.{(n // 128) % 256}.{2 * (n % 128)}\n".encode() for n in range(50_000)
)
HTML = b"<!DOCTYPE html>\n<html><body><h1>502 Bad Gateway</h1></body></html>\n"


class FeedServer:
    """A real HTTP server on loopback; `routes[path] = (status, content type, body)`, or a
    special behaviour: `hang` (headers, then nothing), `cut` (Content-Length longer than the
    body), `slow` (a byte at a time)."""

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.release = threading.Event()
        routes, release = self.routes, self.release

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                route = routes.get(self.path, (404, "text/plain", b"not found\n"))
                if route == "hang":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.flush()
                    release.wait(10)
                    return
                if route == "cut":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(SPAMHAUS_DROP) + 100))
                    self.end_headers()
                    self.wfile.write(SPAMHAUS_DROP)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if route == "slow":
                    self.send_response(200)
                    self.end_headers()
                    for byte in FIREHOL:
                        if release.wait(0.05):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                status, content_type, body = route
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, content_type: str = "text/plain") -> str:
        self.routes[path] = (200, content_type, body)
        return self.url(path)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def use(waf: Waf, monkeypatch: pytest.MonkeyPatch, urls: list[str], **limits: Any) -> None:
    settings = EdgeSettings.from_env(
        {
            "THREAT_FEED_URLS": ",".join(urls),
            "THREAT_FEED_IPV4_SET_ARN": waf.sets["ThreatFeedIpv4"].arn,
            "THREAT_FEED_IPV6_SET_ARN": waf.sets["ThreatFeedIpv6"].arn,
            **{f"THREAT_FEED_{name.upper()}": str(value) for name, value in limits.items()},
        }
    )
    monkeypatch.setattr(app, "_importer", app.Importer(settings, waf.client))


def invoke() -> dict[str, Any]:
    return app.lambda_handler({"id": "event-1", "detail-type": "Scheduled Event"}, Context())


def metrics_of(capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The metric names of the EMF blobs Powertools printed."""
    names = set()
    for text in capsys.readouterr().out.splitlines():
        line = json.loads(text) if text.startswith("{") else {}
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            names |= {metric["Name"] for metric in directive["Metrics"]}
    return names


def test_spamhaus_and_firehol_feeds_are_merged_into_the_sets(
    waf: Waf,
    feeds: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: LogLines,
    capsys: pytest.CaptureFixture[str],
) -> None:
    waf.put("ThreatFeedIpv4", ["192.0.2.0/24"])  # last import's entry, no longer listed
    urls = [
        feeds.serve("/drop.txt", SPAMHAUS_DROP),
        feeds.serve("/firehol_level1.netset", FIREHOL),
        feeds.serve("/v6.netset", FIREHOL_V6),
    ]
    use(waf, monkeypatch, urls)
    summary = invoke()
    assert waf.addresses("ThreatFeedIpv4") == {
        "1.10.16.0/20",  # 1.10.16.0/21 of FireHOL lies inside Spamhaus's /20
        "1.19.0.0/16",
        "2.56.192.0/22",
        "198.51.100.7/32",
        "203.0.113.0/24",  # two adjacent /25s merged
    }
    assert waf.addresses("ThreatFeedIpv6") == {"2001:db8::/32", "2001:db9::1/128"}
    (audit,) = [line for line in log_lines() if line["message"] == "threat feed import"]
    assert audit["outcome"] == "imported"
    assert (audit["added"], audit["removed"], audit["ipv4"], audit["ipv6"]) == (7, 1, 5, 2)
    assert (audit["feeds"], audit["listed"]) == (3, 10)
    assert summary["added"] == 7
    assert "ThreatFeedImported" in metrics_of(capsys)

    # The same feeds again: nothing to write.
    again = invoke()
    assert (again["added"], again["removed"], again["written"]) == (0, 0, False)


def test_fifty_thousand_adjacent_lines_collapse(
    waf: Waf, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(waf, monkeypatch, [feeds.serve("/large.netset", LARGE)])
    summary = invoke()
    # 10.0.0.0 - 10.0.195.79 = /17 + /18 + /21 + /22 + /25 + /28.
    assert waf.addresses("ThreatFeedIpv4") == {
        "10.0.0.0/17", "10.0.128.0/18", "10.0.192.0/23", "10.0.194.0/24",
        "10.0.195.0/26", "10.0.195.64/28",
    }  # fmt: skip
    assert summary["dropped"] == 0


def test_past_ten_thousand_networks_the_widest_are_kept_and_the_rest_logged(
    waf: Waf, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch, log_lines: LogLines
) -> None:
    wide = b"172.16.0.0/12\n"
    use(waf, monkeypatch, [feeds.serve("/sparse.netset", SPARSE), feeds.serve("/w", wide)])
    summary = invoke()
    held = waf.addresses("ThreatFeedIpv4")
    assert len(held) == 10_000
    assert "172.16.0.0/12" in held  # the widest network always fits
    # Then the lowest /32s, by address: the same feed always keeps the same 9,999.
    assert "10.0.0.0/32" in held
    assert "10.0.78.28/32" in held
    assert "10.0.78.30/32" not in held
    assert summary["dropped"] == 50_001 - 10_000
    (warning,) = [line for line in log_lines() if "capacity" in line["message"]]
    assert warning["dropped_ipv4"] == 40_001
    assert warning["first_dropped"][0] == "10.0.78.30/32"


BROKEN = {
    "html error page": (200, "text/html", HTML),
    "html served as text": (200, "text/plain", HTML),
    "garbage line": (200, "text/plain", SPAMHAUS_DROP + b"1.2.3.4.5/24 ; SBL1\n"),
    "host bits set": (200, "text/plain", b"192.0.2.1/24\n"),
    "everything": (200, "text/plain", b"0.0.0.0/0\n"),
    "two on a line": (200, "text/plain", b"192.0.2.1 192.0.2.2\n"),
    "last line cut": (200, "text/plain", SPAMHAUS_DROP + b"1.10.16.0/2"),
    "only comments": (200, "text/plain", b"; nothing today\n"),
    "empty": (200, "text/plain", b""),
    "binary": (200, "application/octet-stream", b"\xff\xfe\x00garbage\n"),
    "not found": (404, "text/html", HTML),
    "server error": (500, "text/plain", b"oops\n"),
    "too large": (200, "text/plain", FIREHOL * 200),
}
REASONS = {
    "html error page": "html",
    "html served as text": "malformed_line",
    "garbage line": "malformed_line",
    "host bits set": "malformed_line",
    "everything": "malformed_line",
    "two on a line": "malformed_line",
    "last line cut": "truncated",
    "only comments": "empty",
    "empty": "empty",
    "binary": "not_text",
    "not found": "http_status",
    "server error": "http_status",
    "too large": "too_large",
    "hang": "timeout",
    "cut": "truncated",
    "slow": "deadline",
    "unreachable": "unreachable",
}


@pytest.mark.parametrize("case", sorted(REASONS))
def test_a_broken_feed_changes_nothing_and_is_reported(
    waf: Waf,
    feeds: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: LogLines,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    waf.put("ThreatFeedIpv4", ["192.0.2.0/24"])
    waf.put("ThreatFeedIpv6", ["2001:db8::/32"])
    good = feeds.serve("/drop.txt", SPAMHAUS_DROP)
    if case in BROKEN:
        feeds.routes["/broken"] = BROKEN[case]
    elif case != "unreachable":
        feeds.routes["/broken"] = case
    broken = "http://127.0.0.1:9/broken" if case == "unreachable" else feeds.url("/broken")
    # A good feed first: it must not be written either.
    use(waf, monkeypatch, [good, broken], timeout_seconds=1, deadline_seconds=2, max_bytes=4096)
    started = time.monotonic()
    summary = invoke()
    assert time.monotonic() - started < 5
    assert summary["outcome"] == "failed"
    assert summary["reason"] == REASONS[case]
    assert waf.addresses("ThreatFeedIpv4") == {"192.0.2.0/24"}
    assert waf.addresses("ThreatFeedIpv6") == {"2001:db8::/32"}
    assert "ThreatFeedImportFailed" in metrics_of(capsys)
    (error,) = [line for line in log_lines() if line["message"] == "threat feed import failed"]
    assert (error["reason"], error["feed"]) == (REASONS[case], broken)
    # Why, but never the body: at most a short excerpt of one line.
    assert "<h1>502 Bad Gateway</h1>" not in json.dumps(log_lines())
    assert all(len(json.dumps(line)) < 2000 for line in log_lines())


def test_no_feed_configured_writes_nothing(
    waf: Waf, monkeypatch: pytest.MonkeyPatch, log_lines: LogLines
) -> None:
    waf.put("ThreatFeedIpv4", ["192.0.2.0/24"])
    use(waf, monkeypatch, [])
    assert invoke()["outcome"] == "skipped"
    assert waf.addresses("ThreatFeedIpv4") == {"192.0.2.0/24"}
    (audit,) = [line for line in log_lines() if line["message"] == "threat feed import"]
    assert audit["outcome"] == "skipped"


def test_feeds_must_be_https_except_on_loopback() -> None:
    from shared.settings import ConfigurationError  # noqa: PLC0415

    for url in ("http://feeds.example.com/drop.txt", "ftp://127.0.0.1/x", "file:///etc/hosts"):
        with pytest.raises(ConfigurationError):
            EdgeSettings.from_env({"THREAT_FEED_URLS": f"https://ok.example/a,{url}"})
    ok = EdgeSettings.from_env({"THREAT_FEED_URLS": " https://a.example/x , http://127.0.0.1:8/y"})
    assert ok.threat_feed_urls == ("https://a.example/x", "http://127.0.0.1:8/y")


def test_redirects_are_followed_only_to_trusted_urls(feeds: FeedServer) -> None:
    from shared.edge import FeedError, FeedLimits, fetch_feed  # noqa: PLC0415
    from shared.edge.threat_feed import _TrustedRedirects  # noqa: PLC0415

    with pytest.raises(FeedError) as raised:
        _TrustedRedirects().redirect_request(
            None, None, 302, "Found", {}, "http://feeds.example.com/drop.txt"
        )
    assert raised.value.reason == "untrusted_url"
    limits = FeedLimits(timeout_seconds=1, max_bytes=4096, deadline_seconds=2)
    body, content_type = fetch_feed(
        feeds.serve("/ok", FIREHOL), limits, deadline=time.monotonic() + 2
    )
    assert (body, content_type) == (FIREHOL, "text/plain")


class Context:
    function_name = "import-threat-feed"
    memory_limit_in_mb = 512
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:import-threat-feed"
