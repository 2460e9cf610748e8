"""Where `wfctl login` keeps the person's tokens: `$XDG_CONFIG_HOME/wfctl/session.json`
(default `~/.config/wfctl/`), a file only its owner may read (docs/wfctl.md, "Token storage").

The file is written to a temporary file created with mode 0600 and renamed over the old one,
so it is never readable by others, not even for a moment. Reading refuses a file that others
could read or write, that another user owns, or that is a symbolic link: a token file that has
been exposed is reported, never silently used.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wfctl.oauth import LoginError

FILE_NAME = "session.json"
#: A token this close to its expiry is refreshed before use (clock drift, network time).
EXPIRY_MARGIN_SECONDS = 3


class SessionFileError(LoginError):
    """The token file is unsafe (permissions, owner, link) or unreadable."""


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "").strip()
    # XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "wfctl"


def session_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / FILE_NAME


@dataclass(frozen=True, slots=True)
class Session:
    issuer: str
    client_id: str
    token_endpoint: str
    access_token: str
    expires_at: int | None
    refresh_token: str | None
    scope: str | None

    def expired(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at - EXPIRY_MARGIN_SECONDS

    def updated(self, answer: Mapping[str, Any], now: float | None = None) -> Session:
        """This session after a token response (RFC 6749 section 5.1; a refresh answer may
        carry a new refresh token, RFC 6749 section 6, and then the old one is gone)."""
        return Session(
            issuer=self.issuer,
            client_id=self.client_id,
            token_endpoint=self.token_endpoint,
            access_token=str(answer["access_token"]),
            expires_at=_expires_at(answer, now),
            refresh_token=str(answer.get("refresh_token") or self.refresh_token or "") or None,
            scope=str(answer["scope"]) if isinstance(answer.get("scope"), str) else self.scope,
        )

    @classmethod
    def from_answer(
        cls,
        issuer: str,
        client_id: str,
        token_endpoint: str,
        answer: Mapping[str, Any],
        now: float | None = None,
    ) -> Session:
        empty = cls(issuer, client_id, token_endpoint, "", None, None, None)
        return empty.updated(answer, now)


def _expires_at(answer: Mapping[str, Any], now: float | None) -> int | None:
    lifetime = answer.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        return None
    return int((time.time() if now is None else now) + lifetime)


def save(session: Session, path: Path | None = None) -> Path:
    path = path or session_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(session), handle)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def load(path: Path | None = None) -> Session:
    """The stored session; `LoginError` when there is none, `SessionFileError` when unsafe."""
    path = path or session_path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise LoginError("not logged in: run wfctl login") from None
    except OSError as error:  # ELOOP: a symbolic link
        raise SessionFileError(
            f"refusing the token file {path}: {error.strerror or 'cannot open'}"
        ) from None
    with os.fdopen(fd, "r", encoding="utf-8") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SessionFileError(f"refusing the token file {path}: not a regular file")
        if info.st_uid != os.getuid():
            raise SessionFileError(f"refusing the token file {path}: owned by another user")
        if info.st_mode & 0o077:
            raise SessionFileError(
                f"refusing the token file {path}: mode {stat.S_IMODE(info.st_mode):04o} lets "
                "others read or write it; its tokens may be exposed: run wfctl logout, then "
                "wfctl login"
            )
        try:
            data = json.loads(handle.read(1_000_000))
            return Session(
                issuer=_text(data, "issuer"),
                client_id=_text(data, "client_id"),
                token_endpoint=_text(data, "token_endpoint"),
                access_token=_text(data, "access_token"),
                expires_at=_optional_int(data, "expires_at"),
                refresh_token=_optional_text(data, "refresh_token"),
                scope=_optional_text(data, "scope"),
            )
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            # Never echo the content: it may hold a token.
            raise SessionFileError(
                f"the token file {path} is corrupted: run wfctl logout, then wfctl login"
            ) from None


def delete(path: Path | None = None) -> bool:
    path = path or session_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _text(data: Any, name: str) -> str:
    value = data[name]
    if not isinstance(value, str) or not value:
        raise ValueError(name)
    return value


def _optional_text(data: Any, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(name)
    return value


def _optional_int(data: Any, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(name)
    return value
