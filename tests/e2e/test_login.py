"""`wfctl login`, `call` and `logout` against the local oidc-provider over HTTP, with the
provider's login and consent pages driven by `requests` (a real browser: test_browser_login)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.e2e.conftest import LocalRun
from tests.e2e.login_driver import start_login, stop_all, wfctl

INTERACTION = re.compile(r'action="(/interaction/[A-Za-z0-9_-]+)"')


@pytest.fixture(autouse=True)
def _no_login_left_running() -> Iterator[None]:
    yield
    stop_all()


def sign_in_pages(url: str, user: str, password: str, *, allow: bool = True) -> requests.Response:
    """Open the URL, sign in, answer the consent page; the last answer is the redirect to the
    callback (not followed)."""
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    origin = f"{urlsplit(page.url).scheme}://{urlsplit(page.url).netloc}"
    action = INTERACTION.search(page.text)
    assert action, page.text
    answer = browser.post(
        origin + action.group(1), data={"login": user, "password": password}, timeout=10
    )
    if answer.status_code != 200 or "Allow access?" not in answer.text:
        return answer
    consent = INTERACTION.findall(answer.text)
    target = consent[0] if allow else f"{consent[0]}/abort"
    redirect = browser.post(origin + target, timeout=10, allow_redirects=False)
    # oidc-provider answers the consent with a redirect to /auth/<uid>, which redirects to us.
    while redirect.is_redirect and urlsplit(redirect.headers["Location"]).path != "/callback":
        location = redirect.headers["Location"]
        redirect = browser.get(
            location if location.startswith("http") else origin + location,
            timeout=10,
            allow_redirects=False,
        )
    return redirect


def callback_of(redirect: requests.Response) -> str:
    location = redirect.headers["Location"]
    assert "/callback?" in location, location
    return location


def login_user(local_run: LocalRun) -> tuple[str, str]:
    login = local_run.oauth["login"]
    return login["user"], login["password"]


def test_login_call_refresh_and_logout(local_run: LocalRun, tmp_path: Path) -> None:
    started = start_login(local_run, tmp_path)
    query = parse_qs(urlsplit(started.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"
    delivered = requests.get(
        callback_of(sign_in_pages(started.url, *login_user(local_run))), timeout=10
    )
    assert delivered.status_code == 200
    code, printed = started.finish()
    assert code == 0, printed
    token_file = tmp_path / "wfctl" / "session.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    stored = json.loads(token_file.read_text())
    assert stored["access_token"] not in printed
    assert stored["refresh_token"] not in printed

    called = wfctl(local_run, tmp_path, "call", "GET", "/api/secure-automate")
    assert called.returncode == 0, called.stderr
    user = json.loads(called.stdout)["user"]
    assert (user["principal"], user["scheme"], user["client_id"]) == ("demo", "oauth", "wfctl")
    assert json.loads(token_file.read_text())["access_token"] == stored["access_token"]

    time.sleep(max(0.0, stored["expires_at"] - time.time()) + 1)
    again = wfctl(local_run, tmp_path, "call", "GET", "/api/secure-automate")
    assert again.returncode == 0, again.stderr
    renewed = json.loads(token_file.read_text())
    assert renewed["access_token"] != stored["access_token"]
    # A public client's refresh token is rotated (RFC 9700 section 4.14.2); the old one is
    # refused from now on.
    assert renewed["refresh_token"] != stored["refresh_token"]
    replay = requests.post(
        local_run.oauth["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": stored["refresh_token"],
            "client_id": "wfctl",
        },
        timeout=10,
    )
    assert replay.status_code == 400
    for secret in (stored["access_token"], renewed["access_token"], renewed["refresh_token"]):
        assert secret not in called.stdout + called.stderr + again.stdout + again.stderr

    logout = wfctl(local_run, tmp_path, "logout")
    assert logout.returncode == 0
    assert not token_file.exists()
    after = wfctl(local_run, tmp_path, "call", "GET", "/api/secure-automate")
    assert after.returncode == 2
    assert "not logged in" in after.stderr


def test_a_wrong_password_is_refused_by_the_login_page(local_run: LocalRun, tmp_path: Path) -> None:
    started = start_login(local_run, tmp_path, timeout=2)
    refused = sign_in_pages(started.url, login_user(local_run)[0], "not-the-password")
    assert refused.status_code == 401
    code, printed = started.finish()
    assert code == 2
    assert "no answer from the browser within 2 seconds" in printed


def test_denied_consent_ends_the_login(local_run: LocalRun, tmp_path: Path) -> None:
    started = start_login(local_run, tmp_path)
    redirect = sign_in_pages(started.url, *login_user(local_run), allow=False)
    requests.get(callback_of(redirect), timeout=10)
    code, printed = started.finish()
    assert code == 2
    assert "refused the sign-in: access_denied" in printed
    assert not (tmp_path / "wfctl" / "session.json").exists()


def test_a_code_the_provider_refuses(local_run: LocalRun, tmp_path: Path) -> None:
    started = start_login(local_run, tmp_path)
    location = callback_of(sign_in_pages(started.url, *login_user(local_run)))
    parts = urlsplit(location)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params["code"] = params["code"][::-1]  # not a code the provider issued
    requests.get(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}", timeout=10)
    code, printed = started.finish()
    assert code == 2
    assert "400 invalid_grant" in printed
    assert params["code"] not in printed
    assert not (tmp_path / "wfctl" / "session.json").exists()


def test_a_forged_state_is_refused(local_run: LocalRun, tmp_path: Path) -> None:
    started = start_login(local_run, tmp_path)
    location = callback_of(sign_in_pages(started.url, *login_user(local_run)))
    requests.get(location.replace("state=", "state=forged"), timeout=10)
    code, printed = started.finish()
    assert code == 2
    assert "state does not match" in printed


def test_a_refused_refresh_token_says_log_in_again(local_run: LocalRun, tmp_path: Path) -> None:
    started = start_login(local_run, tmp_path)
    requests.get(callback_of(sign_in_pages(started.url, *login_user(local_run))), timeout=10)
    assert started.finish()[0] == 0
    token_file = tmp_path / "wfctl" / "session.json"
    stored = json.loads(token_file.read_text())
    stored.update(expires_at=int(time.time()) - 60, refresh_token="not-a-refresh-token")
    token_file.write_text(json.dumps(stored))
    done = wfctl(local_run, tmp_path, "call", "GET", "/api/secure-automate")
    assert done.returncode == 2
    assert "log in again" in done.stderr
    assert stored["access_token"] not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"redirect_uri": "http://evil.example/callback"}, "redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, "redirect_uri"),
    ],
)
def test_the_provider_refuses_authorization_requests_without_pkce_or_loopback(
    local_run: LocalRun, change: dict[str, str | None], error: str
) -> None:
    query = {
        "response_type": "code",
        "client_id": "wfctl",
        "redirect_uri": "http://127.0.0.1:50123/callback",
        "scope": "openid",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    query.update(change)  # type: ignore[arg-type]
    sent = {k: v for k, v in query.items() if v is not None}
    answer = requests.get(
        f"{local_run.oauth['issuer']}/auth", params=sent, timeout=10, allow_redirects=False
    )
    refused = answer.headers.get("Location", "") + answer.text
    assert "/interaction/" not in refused  # never reaches the login page
    assert error in refused
