"""`wfctl login`, `call` and the refresh, in-process, against a scripted provider and API on
loopback HTTP: every way the flow can go wrong is tried, and no token is ever printed."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from wfctl import login, session
from wfctl.loopback import CallbackServer
from wfctl.oauth import LoginError, RefreshError, s256

ACCESS = "access-token-AAAAAAAAAAAAAAAAAAAA"
REFRESHED = "access-token-BBBBBBBBBBBBBBBBBBBB"
REFRESH = "refresh-token-RRRRRRRRRRRRRRRRRRRR"
CODE = "the-authorization-code-CCCCCCCCCC"
SECRETS = (ACCESS, REFRESHED, REFRESH, CODE)


@dataclass
class Provider:
    """A scripted authorization server and resource server (one HTTP server)."""

    base: str = ""
    token_status: int = 200
    refresh_status: int = 200
    access_ttl: int = 300
    token_requests: list[dict[str, str]] = field(default_factory=list)
    api_tokens: list[str] = field(default_factory=list)
    #: What the "browser" gets back from /auth: a function of the request's query.
    redirect: Callable[[dict[str, str]], dict[str, str]] = lambda q: {
        "code": CODE,
        "state": q["state"],
    }
    challenge: str = ""

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.base,
            "authorization_endpoint": f"{self.base}/auth",
            "token_endpoint": f"{self.base}/token",
            "code_challenge_methods_supported": ["S256"],
        }


def _serve(provider: Provider) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._json(200, provider.metadata())
            elif parts.path == "/auth":
                provider.challenge = query["code_challenge"]
                target = f"{query['redirect_uri']}?{urlencode(provider.redirect(query))}"
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            elif parts.path == "/api/secure-automate":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                provider.api_tokens.append(token)
                live = token == (REFRESHED if provider.refresh_status == 200 else ACCESS)
                self._json(200 if live else 401, {"message": "ok" if live else "Unauthorized"})
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            if form.get("grant_type") == "authorization_code":
                if provider.token_status != 200:
                    self._json(provider.token_status, {"error": "invalid_grant"})
                    return
                answer = {"access_token": ACCESS, "refresh_token": REFRESH}
            else:
                if provider.refresh_status != 200:
                    self._json(
                        provider.refresh_status,
                        {"error": "invalid_grant", "error_description": f"expired {REFRESH}"},
                    )
                    return
                answer = {"access_token": REFRESHED, "refresh_token": REFRESH + "2"}
            self._json(200, {**answer, "token_type": "Bearer", "expires_in": provider.access_ttl})

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def provider() -> Iterator[Provider]:
    scripted = Provider()
    server = _serve(scripted)
    try:
        yield scripted
    finally:
        server.shutdown()
        server.server_close()


def browser(url: str) -> bool:
    """What a browser does with the sign-in URL: follow the redirects to the callback."""

    def visit() -> None:
        with (
            contextlib.suppress(urllib.error.URLError),
            urllib.request.urlopen(url, timeout=10) as page,
        ):
            page.read()

    threading.Thread(target=visit, daemon=True).start()
    return True


def sign_in(provider: Provider, path: Path, **changes: Any) -> tuple[session.Session, str]:
    out = io.StringIO()
    request = login.LoginRequest(
        issuer=provider.base, client_id="wfctl", scopes=("openid",), timeout_seconds=10
    )
    for name, value in changes.items():
        request = login.LoginRequest(**{**request.__dict__, name: value})  # type: ignore[arg-type]
    try:
        signed_in = login.login(request, out=out, path=path, opener=browser)
    finally:
        for secret in SECRETS:
            assert secret not in out.getvalue()
    return signed_in, out.getvalue()


def test_login_exchanges_the_code_with_the_pkce_verifier_and_stores_0600(
    provider: Provider, tmp_path: Path
) -> None:
    path = tmp_path / "wfctl" / "session.json"
    signed_in, printed = sign_in(provider, path)
    assert signed_in.access_token == ACCESS
    assert path.stat().st_mode & 0o777 == 0o600
    exchange = provider.token_requests[0]
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code"] == CODE
    assert exchange["client_id"] == "wfctl"
    assert "client_secret" not in exchange  # a public client
    assert exchange["redirect_uri"].startswith("http://127.0.0.1:")
    assert exchange["redirect_uri"].endswith("/callback")
    assert s256(exchange["code_verifier"]) == provider.challenge
    assert "signed in" in printed


@pytest.mark.parametrize(
    ("redirect", "message"),
    [
        (lambda q: {"code": CODE, "state": "forged-by-an-attacker"}, "state does not match"),
        (lambda q: {"code": CODE}, "state does not match"),
        (lambda q: {"error": "access_denied", "state": q["state"]}, "access_denied"),
        (lambda q: {"state": q["state"]}, "no authorization code"),
        (lambda q: {"code": CODE, "state": q["state"], "iss": "http://127.0.0.1:1"}, "issuer"),
    ],
)
def test_a_bad_callback_ends_the_login_and_no_code_is_exchanged(
    provider: Provider, tmp_path: Path, redirect: Callable[[dict[str, str]], Any], message: str
) -> None:
    provider.redirect = redirect
    path = tmp_path / "session.json"
    with pytest.raises(LoginError, match=message) as raised:
        sign_in(provider, path)
    assert provider.token_requests == []
    assert not path.exists()
    assert all(secret not in str(raised.value) for secret in SECRETS)


def test_a_code_the_provider_refuses_stores_nothing(provider: Provider, tmp_path: Path) -> None:
    provider.token_status = 400
    path = tmp_path / "session.json"
    with pytest.raises(LoginError, match="400 invalid_grant") as raised:
        sign_in(provider, path)
    assert not path.exists()
    assert CODE not in str(raised.value)


def test_no_callback_times_out_with_a_clear_message(provider: Provider, tmp_path: Path) -> None:
    out = io.StringIO()
    request = login.LoginRequest(provider.base, "wfctl", ("openid",), timeout_seconds=0.5)
    with pytest.raises(LoginError, match=r"no answer from the browser within 0.5 seconds"):
        login.login(request, out=out, path=tmp_path / "s.json", opener=lambda url: False)
    assert "open this URL" in out.getvalue()  # no browser: the URL is printed


def test_a_second_callback_is_refused_and_does_not_replace_the_first() -> None:
    with CallbackServer() as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = server.redirect_uri
        with urllib.request.urlopen(f"{base}?code=first&state=s", timeout=5) as first:
            assert first.status == 200
            assert first.headers["Referrer-Policy"] == "no-referrer"
        with pytest.raises(urllib.error.HTTPError) as second:
            urllib.request.urlopen(f"{base}?code=second&state=s", timeout=5)
        assert second.value.code == 400
        second.value.close()
        other = base.replace("/callback", "/favicon.ico")
        with pytest.raises(urllib.error.HTTPError) as favicon:
            urllib.request.urlopen(other, timeout=5)
        assert favicon.value.code == 404
        favicon.value.close()
        server.shutdown()
        assert server.wait(1) == {"code": "first", "state": "s"}
        assert server.saw_duplicate


def test_a_repeated_parameter_is_not_trusted() -> None:
    with CallbackServer() as server:
        assert server.accept("state=a&state=b&code=c")
        assert server.wait(1)["state"] == ""


def test_call_refreshes_an_expired_token_and_stores_the_new_one(
    provider: Provider, tmp_path: Path
) -> None:
    path = tmp_path / "session.json"
    provider.access_ttl = 1  # already inside the expiry margin
    sign_in(provider, path)
    answer = login.call("GET", provider.base, "/api/secure-automate", token_file=path)
    assert answer.status == 200
    assert provider.api_tokens == [REFRESHED]
    refresh = provider.token_requests[-1]
    assert refresh == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "wfctl",
    }
    stored = session.load(path)
    assert (stored.access_token, stored.refresh_token) == (REFRESHED, REFRESH + "2")


def test_an_expired_refresh_token_says_log_in_again(provider: Provider, tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    provider.access_ttl = 1
    sign_in(provider, path)
    provider.refresh_status = 400
    with pytest.raises(RefreshError, match=r"log in again \(wfctl login\)") as raised:
        login.call("GET", provider.base, "/api/secure-automate", token_file=path)
    assert all(secret not in str(raised.value) for secret in SECRETS)
    assert provider.api_tokens == []  # the expired token was not sent


def test_a_401_triggers_one_refresh_and_one_retry(provider: Provider, tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    sign_in(provider, path)  # ACCESS is "revoked" by the API as long as refreshing works
    answer = login.call("GET", provider.base, "/api/secure-automate", token_file=path)
    assert answer.status == 200
    assert provider.api_tokens == [ACCESS, REFRESHED]


def test_a_token_file_with_wrong_permissions_is_never_used(
    provider: Provider, tmp_path: Path
) -> None:
    path = tmp_path / "session.json"
    sign_in(provider, path)
    path.chmod(0o644)
    with pytest.raises(session.SessionFileError, match="mode 0644"):
        login.call("GET", provider.base, "/api/secure-automate", token_file=path)
    assert provider.api_tokens == []


def test_a_corrupted_token_file_is_never_used(provider: Provider, tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    sign_in(provider, path)
    path.write_text(path.read_text()[:-7])
    with pytest.raises(session.SessionFileError, match="corrupted") as raised:
        login.call("GET", provider.base, "/api/secure-automate", token_file=path)
    assert all(secret not in str(raised.value) for secret in SECRETS)
    assert provider.api_tokens == []


def test_a_silent_connection_does_not_block_the_callback() -> None:
    with CallbackServer() as server:
        port = server.server_address[1]
        silent = socket.create_connection(("127.0.0.1", port))  # connects, never sends
        try:
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            url = f"{server.redirect_uri}?code=c&state=s"
            with urllib.request.urlopen(url, timeout=15) as answer:
                assert answer.status == 200
            server.shutdown()
            assert server.wait(1) == {"code": "c", "state": "s"}
        finally:
            silent.close()
