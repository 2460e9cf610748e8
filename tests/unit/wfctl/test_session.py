"""The token file: written 0600, refused when others could read it, never echoed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from wfctl import session
from wfctl.session import Session, SessionFileError

TOKEN = "eyJ.access-token-value.sig"
REFRESH = "refresh-token-value-0123456789"


def stored(tmp_path: Path) -> Path:
    answer = {"access_token": TOKEN, "refresh_token": REFRESH, "expires_in": 300, "scope": "s"}
    signed_in = Session.from_answer("https://i", "wfctl", "https://i/token", answer, now=1000)
    return session.save(signed_in, tmp_path / "wfctl" / "session.json")


def test_the_file_is_mode_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = stored(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = session.load(path)
    assert (loaded.access_token, loaded.refresh_token, loaded.expires_at) == (TOKEN, REFRESH, 1300)


def test_rewriting_keeps_mode_0600_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = stored(tmp_path)
    session.save(session.load(path).updated({"access_token": "new"}), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["session.json"]
    assert session.load(path).refresh_token == REFRESH  # kept when the answer has none


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o666])
def test_a_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = stored(tmp_path)
    path.chmod(mode)
    with pytest.raises(SessionFileError, match=f"mode {mode:04o}") as raised:
        session.load(path)
    assert TOKEN not in str(raised.value)
    assert REFRESH not in str(raised.value)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    path = stored(tmp_path)
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(SessionFileError, match="refusing"):
        session.load(link)


@pytest.mark.parametrize(
    "content",
    [
        "{not json " + TOKEN,
        json.dumps({"access_token": TOKEN}),
        json.dumps({"issuer": "i", "client_id": "c", "token_endpoint": "t", "access_token": 1}),
        json.dumps([TOKEN]),
        "\udcff",
    ],
)
def test_a_corrupted_file_is_reported_without_its_content(tmp_path: Path, content: str) -> None:
    path = tmp_path / "session.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w", errors="surrogateescape") as handle:
        handle.write(content)
    with pytest.raises(SessionFileError, match="corrupted") as raised:
        session.load(path)
    assert TOKEN not in str(raised.value)


def test_no_file_means_not_logged_in(tmp_path: Path) -> None:
    with pytest.raises(session.LoginError, match="not logged in"):
        session.load(tmp_path / "absent.json")


def test_logout_deletes_the_file(tmp_path: Path) -> None:
    path = stored(tmp_path)
    assert session.delete(path) is True
    assert not path.exists()
    assert session.delete(path) is False


def test_the_folder_follows_xdg_config_home(tmp_path: Path) -> None:
    assert session.session_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "wfctl" / "session.json"
    )
    # Unset or relative (invalid per the XDG spec): ~/.config.
    home = Path.home() / ".config" / "wfctl" / "session.json"
    assert session.session_path({}) == home
    assert session.session_path({"XDG_CONFIG_HOME": "relative/dir"}) == home


def test_expiry_has_a_margin_and_no_expires_in_means_no_expiry() -> None:
    answer = {"access_token": "a", "expires_in": 60}
    timed = Session.from_answer("i", "c", "t", answer, now=1000)
    assert not timed.expired(now=1000 + 60 - session.EXPIRY_MARGIN_SECONDS - 1)
    assert timed.expired(now=1000 + 60 - session.EXPIRY_MARGIN_SECONDS)
    assert Session.from_answer("i", "c", "t", {"access_token": "a"}).expired() is False
