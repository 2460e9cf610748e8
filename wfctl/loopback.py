"""The loopback redirect of `wfctl login` (RFC 8252 sections 7.3 and 8.3).

A one-shot HTTP server on `127.0.0.1` (the IP literal, not `localhost`, RFC 8252 section 8.3)
on a port the kernel chooses. The first request to `/callback` is the answer; it is checked by
the caller, and every later one is refused (a code is used at most once, RFC 6749 section
4.1.2). Other paths (a browser's `/favicon.ico`) get 404 and do not count.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wfctl.oauth import LoginError

CALLBACK_PATH = "/callback"
_DONE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wfctl</title></head>
<body><h1 id="result">%s</h1><p>You can close this window.</p></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: CallbackServer
    #: A connection that sends nothing must not hold the one-threaded server (seconds).
    timeout = 5

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._answer(404, b"Not found")
            return
        if not self.server.accept(parts.query):
            self._answer(400, b"This login is already finished.")
            return
        self._answer(200, b"wfctl: signed in, back to the terminal.")

    def _answer(self, status: int, text: bytes) -> None:
        body = _DONE % text
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # The code is in this page's URL: do not send it on as a Referer.
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line holds the authorization code."""


class CallbackServer(HTTPServer):
    """Serves until the first callback has arrived; `wait` returns its query parameters."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._lock = threading.Lock()
        self._params: dict[str, str] | None = None
        self._arrived = threading.Event()
        self._duplicate = False

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{CALLBACK_PATH}"

    def accept(self, query: str) -> bool:
        with self._lock:
            if self._params is not None:
                self._duplicate = True
                return False
            parsed = parse_qs(query, keep_blank_values=True)
            # A parameter given twice is ambiguous (RFC 6749 section 3.1): keep it as refused.
            self._params = {k: v[0] if len(v) == 1 else "" for k, v in parsed.items()}
            self._arrived.set()
            return True

    def wait(self, timeout: float) -> dict[str, str]:
        """The first callback's parameters, or `LoginError` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self.timeout = 0.2
        while not self._arrived.is_set():
            if time.monotonic() >= deadline:
                raise LoginError(
                    f"no answer from the browser within {timeout:g} seconds: login abandoned "
                    "(run wfctl login again)"
                )
            self.handle_request()
        return dict(self._params or {})

    @property
    def saw_duplicate(self) -> bool:
        return self._duplicate
