"""The sample events of the admin functions (`events/<function>/*.json`, the files
`sam local invoke -e` takes) replayed through their handlers against moto."""

from __future__ import annotations

import pytest

from shared.secret_formats import ApiKeyRecord
from tests.helpers import EVENTS, load_event
from tests.integration.admin.admin_support import invoke
from tests.integration.rotation.support import Aws, create_api_key_secret

FUNCTIONS = ("create_api_key", "rotate_api_key", "revoke_api_key")
#: Every sample event and the status it must get; a new event file needs an entry here.
EXPECTED = {
    "create_api_key/issue_key.json": 201,
    "create_api_key/invalid_scope.json": 400,
    "rotate_api_key/rotate_key.json": 202,
    "revoke_api_key/revoke_key.json": 200,
}
#: The key the rotate and revoke events name.
SAMPLE_KEY_ID = "demokey000000001"


def test_every_sample_event_has_an_expectation() -> None:
    found = {
        str(path.relative_to(EVENTS))
        for function in FUNCTIONS
        for path in (EVENTS / function).glob("*.json")
    }
    assert found == set(EXPECTED)


@pytest.mark.parametrize(("relative", "status"), sorted(EXPECTED.items()))
def test_sample_event_replays(aws: Aws, relative: str, status: int) -> None:
    create_api_key_secret(
        aws, ApiKeyRecord.issue("billing-service", ["workflow:read"], key_id=SAMPLE_KEY_ID)
    )
    event = load_event(relative)
    assert event["requestContext"]["authorizer"]["scopes"] == "workflow:admin"
    answer = invoke(relative.split("/", maxsplit=1)[0], event)
    assert answer.status == status, answer.body
