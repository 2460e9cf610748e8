"""`wfctl login --no-browser` as a person runs it, and the provider's pages as a person sees
them: shared by the HTTP-level login tests and the real-browser test."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.conftest import LocalRun
from tests.helpers import ROOT

#: Every `wfctl login` started by a test, so that a failed test leaves none running.
_STARTED: list[subprocess.Popen[str]] = []


def stop_all() -> None:
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@dataclass
class LoginProcess:
    process: subprocess.Popen[str]
    url: str
    printed: list[str]

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        """Exit code and everything it printed (stdout and stderr)."""
        rest, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, "".join(self.printed) + rest


def wfctl_env(local_run: LocalRun, config_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WFCTL_"))}
    env.update(
        OAUTH_ISSUER=local_run.oauth["issuer"],
        WFCTL_API_URL=local_run.base,
        XDG_CONFIG_HOME=str(config_home),
    )
    return env


def wfctl(local_run: LocalRun, config_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wfctl", *args],
        cwd=ROOT,
        env=wfctl_env(local_run, config_home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_login(local_run: LocalRun, config_home: Path, timeout: float = 60) -> LoginProcess:
    """Start `wfctl login --no-browser` and read the sign-in URL it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wfctl", "login", "--no-browser", "--timeout", str(timeout)],
        cwd=ROOT,
        env=wfctl_env(local_run, config_home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _STARTED.append(process)
    assert process.stdout is not None
    printed: list[str] = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("http"):
            return LoginProcess(process, line.strip(), printed)
    process.wait(timeout=10)
    raise AssertionError(f"wfctl login printed no URL: {''.join(printed)}")
