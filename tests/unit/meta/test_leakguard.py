"""The leak guard itself must be able to fail, and must be installed for the session."""

from __future__ import annotations

import base64
import secrets

import jwt

from shared import ApiKeyRecord
from tests.leakguard import LeakGuard


def test_the_session_guard_registers_every_minted_secret(no_secret_leaks: LeakGuard) -> None:
    key = secrets.token_urlsafe(48)
    token = jwt.encode({"sub": "x"}, key, algorithm="HS256")
    record = ApiKeyRecord.issue("p", [])
    assert token in no_secret_leaks.secrets
    assert key in no_secret_leaks.secrets
    assert record.api_key in no_secret_leaks.secrets


def test_a_leak_is_found_in_plain_and_base64url_form() -> None:
    guard = LeakGuard()
    secret = "s3cr3t-" + secrets.token_urlsafe(32)
    guard.register(secret)
    guard.write('{"message": "all good"}')
    assert guard.leaks() == []
    guard.write(base64.urlsafe_b64encode(secret.encode()).decode())
    assert len(guard.leaks()) == 1
    guard.write(f'{{"header": "Bearer {secret}"}}')
    assert len(guard.leaks()) == 2


def test_an_api_keys_secret_part_alone_is_a_leak() -> None:
    guard = LeakGuard()
    key = ApiKeyRecord.issue("p", []).api_key
    guard.register(key)
    guard.write("value=" + key.split("_", 2)[2])
    assert guard.leaks()
