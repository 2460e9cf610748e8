"""`wfctl login` with a real browser: Debian's Chromium, headless, drives the sign-in URL that
`wfctl login --no-browser` prints through the local provider's login and consent pages and back
to wfctl's loopback callback; then `wfctl call` answers 200 and, once the access token has
expired, refreshes it.

Run it alone with `make test-browser` (`pytest -m browser`). Without Chromium it is skipped,
saying why, unless WFCTL_REQUIRE_BROWSER=1 (set by CI), where a missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.e2e.conftest import LocalRun
from tests.e2e.login_driver import start_login, stop_all, wfctl

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        message = (
            f"Chromium not installed ({', '.join(missing)}): "
            "apt-get install chromium chromium-driver (or make browser)"
        )
        if os.environ.get("WFCTL_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",  # as root, Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    # The packaged driver: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(autouse=True)
def _no_login_left_running() -> Iterator[None]:
    yield
    stop_all()


def test_login_in_a_real_browser_then_call_and_refresh(
    local_run: LocalRun, chromium: webdriver.Chrome, tmp_path: Path
) -> None:

    login = local_run.oauth["login"]
    started = start_login(local_run, tmp_path)
    wait = WebDriverWait(chromium, 20)

    chromium.get(started.url)
    wait.until(expected_conditions.presence_of_element_located((By.ID, "login")))
    assert "Sign in" in chromium.title
    chromium.find_element(By.ID, "login").send_keys(login["user"])
    chromium.find_element(By.ID, "password").send_keys(login["password"])
    chromium.find_element(By.ID, "submit").click()

    wait.until(expected_conditions.presence_of_element_located((By.ID, "allow")))
    assert "workflow:read" in chromium.find_element(By.ID, "scopes").text
    chromium.find_element(By.ID, "allow").click()

    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "result"), "signed in"))
    assert chromium.current_url.startswith("http://127.0.0.1:")
    code, printed = started.finish()
    assert code == 0, printed

    token_file = tmp_path / "wfctl" / "session.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    first = json.loads(token_file.read_text())
    called = wfctl(local_run, tmp_path, "call", "GET", "/api/secure-automate")
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["message"] == "Secure workflow executed!"
    assert json.loads(called.stdout)["user"]["principal"] == login["user"]

    time.sleep(max(0.0, first["expires_at"] - time.time()) + 1)
    refreshed = wfctl(local_run, tmp_path, "call", "GET", "/api/secure-automate")
    assert refreshed.returncode == 0, refreshed.stderr
    second = json.loads(token_file.read_text())
    assert second["access_token"] != first["access_token"]
    assert second["expires_at"] > first["expires_at"]
    for secret in (first["access_token"], first["refresh_token"], second["access_token"]):
        assert secret not in printed + called.stdout + called.stderr + refreshed.stderr
