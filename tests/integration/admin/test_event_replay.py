"""The sample events of the admin functions replayed through their handlers against moto.

`events/<function>/<case>.json` is what `sam local invoke <Function> -e` takes; the sibling
`<case>.expected.json` says what the function answers (`status`, a subset of the JSON `body`,
`headers_present`) and which keys to `seed` first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.secret_formats import ApiKeyRecord
from tests.helpers import EVENTS
from tests.integration.admin.admin_support import invoke
from tests.integration.rotation.support import Aws, create_api_key_secret

FUNCTIONS = ("create_api_key", "rotate_api_key", "revoke_api_key")
CASES = sorted(
    path
    for function in FUNCTIONS
    for path in (EVENTS / function).glob("*.json")
    if not path.name.endswith(".expected.json")
)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def test_every_function_has_events_with_documented_outcomes() -> None:
    assert {path.parent.name for path in CASES} == set(FUNCTIONS)
    for path in CASES:
        assert path.with_suffix(".expected.json").is_file(), path


@pytest.mark.parametrize("event_path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_event_gives_documented_outcome(aws: Aws, event_path: Path) -> None:
    expected = json.loads(event_path.with_suffix(".expected.json").read_text())
    for key_id in expected.get("seed", {}).get("keys", []):
        record = ApiKeyRecord.issue("billing-service", ["workflow:read"], key_id=key_id)
        create_api_key_secret(aws, record)
    event = json.loads(event_path.read_text())
    assert event["requestContext"]["authorizer"]["scopes"] == "workflow:admin"

    answer = invoke(event_path.parent.name, event)

    assert answer.status == expected["status"], answer.body
    assert _contains(answer.body, expected.get("body", {})), answer.body
    for name in expected.get("headers_present", []):
        assert answer.headers.get(name), f"{name} missing"
