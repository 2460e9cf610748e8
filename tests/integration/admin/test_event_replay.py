"""The sample events of the admin functions replayed through their handlers against moto.

`events/<function>/<case>.json` is what `sam local invoke <Function> -e` takes; the sibling
`<case>.expected.json` says what the function answers (`status`, a subset of the JSON `body`,
`headers_present`) and which keys to `seed` first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.secret_formats import ApiKeyRecord
from tests.helpers import (
    assert_every_function_has_documented_events,
    contains,
    event_cases,
    expected_outcome,
)
from tests.integration.admin.admin_support import invoke
from tests.integration.rotation.support import Aws, create_api_key_secret

FUNCTIONS = ("create_api_key", "rotate_api_key", "revoke_api_key")
CASES = event_cases(FUNCTIONS)


def test_every_function_has_events_with_documented_outcomes() -> None:
    assert_every_function_has_documented_events(CASES, FUNCTIONS)


@pytest.mark.parametrize("event_path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_event_gives_documented_outcome(aws: Aws, event_path: Path) -> None:
    expected = expected_outcome(event_path)
    for key_id in expected.get("seed", {}).get("keys", []):
        record = ApiKeyRecord.issue("billing-service", ["workflow:read"], key_id=key_id)
        create_api_key_secret(aws, record)
    event = json.loads(event_path.read_text())
    assert event["requestContext"]["authorizer"]["scopes"] == "workflow:admin"

    answer = invoke(event_path.parent.name, event)

    assert answer.status == expected["status"], answer.body
    assert contains(answer.body, expected.get("body", {})), answer.body
    for name in expected.get("headers_present", []):
        assert answer.headers.get(name), f"{name} missing"
