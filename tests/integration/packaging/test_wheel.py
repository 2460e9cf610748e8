"""`pip install .` gives a working `wfctl`: the wheel is built, checked for what it holds, and
installed into a fresh virtual environment, where the command runs from outside the repository.

Building needs setuptools and installing needs the runtime dependencies: both come from the
package index (pip's cache makes it a few seconds). Run it alone with `pytest -m packaging`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT
from wfctl import __version__

pytestmark = pytest.mark.packaging

#: Pinned versions of the runtime dependencies (constraints may not carry extras).
PINNED = ("aws-lambda-powertools", "pyjwt", "cryptography", "boto3", "botocore")


def _constraints(path: Path) -> Path:
    pins = []
    for name in ("shared/requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?(==\S+)", line.strip())
            if match and match.group(1).lower() in PINNED:
                pins.append(match.group(1) + match.group(2))
    path.write_text("\n".join(pins) + "\n")
    return path


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel . --no-deps` of a copy of the checkout's tracked files (setuptools leaves a
    `build/` folder behind, and a stale one could slip old files into a later wheel)."""
    out, source = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source")
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, tracked):
        if (ROOT / name).is_file() and not name.startswith((".venv", "local/oidc/node_modules")):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", out, cwd=source)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_wfctl_and_the_shared_parts_it_imports_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"wfctl", "shared"}
    folders = {name.rsplit("/", 1)[0] for name in names if name.startswith("shared/")}
    assert folders == {"shared", "shared/api_keys", "shared/clients", "shared/revocations"}
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "wfctl = wfctl.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_in_a_fresh_venv_wfctl_runs_outside_the_repository(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python, wfctl = target / "bin" / "python", target / "bin" / "wfctl"
    constraints = _constraints(tmp_path / "constraints.txt")
    _run(python, "-m", "pip", "install", "-q", wheel, "-c", constraints, cwd=tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    assert _run(wfctl, "--version", cwd=outside).stdout.strip() == f"wfctl {__version__}"
    helped = _run(wfctl, "--help", cwd=outside).stdout
    for command in ("clients", "token", "mint-token", "api-keys", "revocations", "login", "call"):
        assert command in helped
    assert "--no-browser" in _run(wfctl, "login", "--help", cwd=outside).stdout
    assert "wfctl" in _run(python, "-m", "wfctl", "--help", cwd=outside).stdout
    # The command comes from the venv, not from this checkout.
    where = _run(python, "-c", "import wfctl, shared; print(wfctl.__file__, shared.__file__)",
                 cwd=outside).stdout  # fmt: skip
    assert str(ROOT) not in where
    assert str(target) in where
