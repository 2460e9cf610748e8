"""The HTTP front of the local gateway (stdlib `ThreadingHTTPServer`, loopback only)."""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from local.gateway.app import Gateway, new_request_id
from local.gateway.events import HttpRequest

#: API Gateway's payload limit is 10 MB.
MAX_BODY_BYTES = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    gateway: ClassVar[Gateway]
    protocol_version = "HTTP/1.1"
    server_version = "local-api-gateway"

    def _serve(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=unquote(url.path),
            query=parse_qsl(url.query, keep_blank_values=True),
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            request_id=new_request_id(),
        )
        response = self.gateway.handle(request)
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        if not request.path.startswith("/__local/"):
            # One access-log line per request: never headers or bodies (they carry credentials).
            elapsed = (time.monotonic() - started) * 1000
            print(
                f"{request.method} {request.path} -> {response.status} ({elapsed:.0f} ms)",
                file=sys.stderr,
                flush=True,
            )

    # Every method, as API Gateway: one a route does not serve gets its 404 answer, not the
    # standard library's HTML 501.
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = _serve

    def __getattr__(self, name: str) -> object:
        """`do_<METHOD>` for any other method (QUERY, PROPFIND, ...): served the same way."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default log line (it includes the full request line with the query)."""


def make_server(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
