"""Every sample event in `events/authorizer/` (the files `sam local invoke -e` uses) run through
the handler with its documented outcome."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest

from authorizer.authorize import Authorizer
from shared import ApiKeyRecord
from tests.helpers import EVENTS, load_event
from tests.integration.authorizer.conftest import Secrets
from tests.integration.authorizer.support import allowed, assert_unauthorized

#: file -> documented outcome. Tokens in the files are long expired or visibly fake.
OUTCOMES = {
    "jwt-expired.json": "unauthorized",
    "jwt-trigger-expired.json": "unauthorized",
    "oauth-expired.json": "unauthorized",
    "bearer-missing.json": "unauthorized",
    "bearer-alg-none.json": "unauthorized",
    "bearer-wrong-scheme.json": "unauthorized",
    "api-key-valid.json": "allow",
    "api-key-malformed.json": "unauthorized",
    "api-key-on-bearer-route.json": "unauthorized",
}
EXAMPLE_KEY = "wfk_example000000000_EXAMPLE-api-key-value-not-a-real-secret-000"


def test_every_event_file_is_documented() -> None:
    assert sorted(p.name for p in (EVENTS / "authorizer").glob("*.json")) == sorted(OUTCOMES)


@pytest.mark.parametrize(("name", "expected"), sorted(OUTCOMES.items()))
def test_event_outcome(authz: Authorizer, aws: Secrets, name: str, expected: str) -> None:
    aws.put_api_key(ApiKeyRecord(EXAMPLE_KEY, "example-legacy-client", ("workflow:read",)))
    event = load_event(f"authorizer/{name}")
    if expected == "unauthorized":
        assert_unauthorized(authz, event)
    else:
        policy = authz.handle(event)
        assert policy["principalId"] == "example-legacy-client"
        assert allowed(policy)


@pytest.mark.parametrize("name", ["jwt-expired.json", "jwt-trigger-expired.json"])
def test_expired_service_events_pass_once_re_signed(
    authz: Authorizer, aws: Secrets, name: str, service_token: Callable[..., str]
) -> None:
    """The events are refused only for their age: the same claims, fresh and signed with the
    real key, are allowed. Proves the sample events have the shape API Gateway sends."""
    event = load_event(f"authorizer/{name}")
    token = event["headers"]["Authorization"].split(" ", 1)[1]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    now = int(time.time())
    claims.update(iat=now, exp=now + 300)
    fresh = jwt.encode(claims, aws.signing_keys["k1"], algorithm="HS256", headers={"kid": "k1"})
    event["headers"]["Authorization"] = f"Bearer {fresh}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {fresh}"]
    assert authz.handle(event)["principalId"] == claims["sub"]
