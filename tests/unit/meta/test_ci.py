"""CI runs the browser login test for real: it installs Chromium, and a missing browser fails."""

from __future__ import annotations

import tomllib

from tests.helpers import ROOT


def test_ci_installs_chromium_and_refuses_to_skip_the_browser_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make browser" in ci
    assert "export WFCTL_REQUIRE_BROWSER=1" in ci
    assert ci.index("\nmake browser") < ci.index("\nmake test")
    makefile = (ROOT / "Makefile").read_text()
    assert "apt-get install -y -qq chromium chromium-driver" in makefile
    browser_test = (ROOT / "tests" / "e2e" / "test_browser_login.py").read_text()
    assert 'os.environ.get("WFCTL_REQUIRE_BROWSER") == "1"' in browser_test
    assert "pytest.fail(message)" in browser_test


def test_the_browser_and_packaging_markers_are_registered() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    markers = config["tool"]["pytest"]["ini_options"]["markers"]
    assert {m.split(":")[0] for m in markers} >= {"e2e", "browser", "packaging"}
