"""`wfctl login`, `wfctl call` and `wfctl logout`: a person signed in with the OAuth provider
(authorization code with PKCE, RFC 7636; native-app loopback redirect, RFC 8252), then API
calls with the stored access token, refreshed with the refresh token when it has expired.
"""

from __future__ import annotations

import json
import secrets
import sys
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from wfctl import oauth, session
from wfctl.loopback import CallbackServer
from wfctl.oauth import LoginError

CALL_TIMEOUT_SECONDS = 30
MAX_BODY_BYTES = 10 * 1024 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class LoginRequest:
    issuer: str
    client_id: str
    scopes: Sequence[str]
    timeout_seconds: float = 300
    open_browser: bool = True
    resource: str | None = None


def login(
    request: LoginRequest,
    out: IO[str] = sys.stderr,
    path: Path | None = None,
    opener: Callable[[str], bool] = webbrowser.open,
) -> session.Session:
    """Sign in and store the session; the URL is printed (never a token)."""
    metadata = oauth.discover(request.issuer)
    pkce = oauth.Pkce.new()
    state = secrets.token_urlsafe(32)
    with CallbackServer() as server:
        url = oauth.authorization_url(
            metadata, request.client_id, server.redirect_uri, request.scopes, state, pkce,
            request.resource,
        )  # fmt: skip
        if request.open_browser and opener(url):
            print("wfctl: your browser has been opened to sign in; if not, open:", file=out)
        else:
            print("wfctl: open this URL in a browser to sign in:", file=out)
        print(url, file=out, flush=True)
        params = server.wait(request.timeout_seconds)
    code = oauth.check_callback(params, state, metadata)
    answer = oauth.exchange_code(metadata, request.client_id, code, server.redirect_uri, pkce)
    signed_in = session.Session.from_answer(
        metadata.issuer, request.client_id, metadata.token_endpoint, answer
    )
    stored = session.save(signed_in, path)
    print(f"wfctl: signed in; tokens stored in {stored} (mode 0600)", file=out)
    return signed_in


def current(path: Path | None = None, *, force_refresh: bool = False) -> session.Session:
    """The stored session with a usable access token, refreshed (and stored) when needed."""
    stored = session.load(path)
    if not (force_refresh or stored.expired()):
        return stored
    if not stored.refresh_token:
        raise oauth.RefreshError("the access token has expired: log in again (wfctl login)")
    answer = oauth.refresh(stored.token_endpoint, stored.client_id, stored.refresh_token)
    renewed = stored.updated(answer)
    session.save(renewed, path)
    return renewed


def api_url(base: str, path: str) -> str:
    """`base` + `path`, where `path` can only be a path on that API (the token is sent there)."""
    oauth.require_trusted(base, "API URL")
    if not path.startswith("/") or path.startswith("//") or "\\" in path or "#" in path:
        raise LoginError("PATH must be a path on the API, such as /api/secure-automate")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in path):
        raise LoginError("PATH must not hold spaces or control characters")
    url = base.rstrip("/") + path
    if urlsplit(url).netloc != urlsplit(base).netloc:
        raise LoginError("PATH must be a path on the API")
    return url


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the bearer token elsewhere: answers are shown as they are."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _send(method: str, url: str, token: str, data: bytes | None) -> Answer:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=CALL_TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.read(MAX_BODY_BYTES))
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.read(MAX_BODY_BYTES))
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise LoginError(f"the API could not be reached: {type(error).__name__}") from None


def call(
    method: str, base: str, path: str, data: str | None = None, token_file: Path | None = None
) -> Answer:
    """One API call with the stored access token; on 401 with an expired-looking token the
    token is refreshed once and the call repeated."""
    method = method.upper()
    if method not in METHODS:
        raise LoginError(f"METHOD must be one of {', '.join(METHODS)}")
    url = api_url(base, path)
    body: bytes | None = None
    if data is not None:
        try:
            json.loads(data)
        except ValueError:
            raise LoginError("--data must be JSON") from None
        body = data.encode()
    active = current(token_file)
    answer = _send(method, url, active.access_token, body)
    if answer.status == 401 and active.refresh_token:
        # Expired early (clock drift) or revoked: one refresh, one retry.
        active = current(token_file, force_refresh=True)
        answer = _send(method, url, active.access_token, body)
    return answer
