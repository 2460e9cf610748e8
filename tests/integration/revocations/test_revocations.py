"""POST / GET /api/admin/revocations through the handlers, DynamoDB in moto with the table as
`template.yaml` declares it, and the authorizer refusing what was revoked."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.revocations import InvalidRevocationError, default_store, parse_request
from shared.security_table import (
    api_key_revocation_bound_seconds,
    revoked_subject_key,
    token_revocation_bound_seconds,
)
from shared.settings import AuthorizerSettings, SecuritySettings
from tests.helpers import create_security_table
from tests.integration.functions.support import FakeLambdaContext, api_event, body_of
from tests.unit.template.conftest import load_template

TABLE = "security-test"
REVOCATIONS = "/api/admin/revocations"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto.mock_aws(config={"core": {"reset_boto3_session": False}}):
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_security_table(client, TABLE)
        monkeypatch.setenv("SECURITY_TABLE_NAME", TABLE)
        default_store.cache_clear()
        yield client
        default_store.cache_clear()


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    module = importlib.import_module(f"functions.{function}.app")
    result: dict[str, Any] = module.lambda_handler(event, FakeLambdaContext())
    return result


def post(body: Any, **kwargs: Any) -> dict[str, Any]:
    raw = body if isinstance(body, str) else json.dumps(body)
    return invoke("create_revocation", api_event("POST", REVOCATIONS, body=raw, **kwargs))


def test_revoke_a_jti_until_its_expiry_and_list_it(table: Any) -> None:
    expires = int(time.time()) + 600
    response = post({"jti": "tok-123", "expiresAt": expires})
    assert response["statusCode"] == 201
    created = body_of(response)
    assert created["jti"] == "tok-123"
    assert created["expiresAt"] == expires
    assert created["revokedBy"] == "svc-test"
    listed = invoke("list_revocations", api_event("GET", REVOCATIONS))
    assert listed["statusCode"] == 200
    assert [r["jti"] for r in body_of(listed)["revocations"]] == ["tok-123"]


def test_revoke_every_token_of_a_subject(table: Any) -> None:
    before = int(time.time())
    created = body_of(post({"sub": "svc-payments", "scheme": "jwt"}))
    assert created["sub"] == "svc-payments"
    assert created["issuedBefore"] >= before
    key = revoked_subject_key("jwt", "", "svc-payments")
    item = table.get_item(TableName=TABLE, Key={"pk": {"S": key}})["Item"]
    assert int(item["before"]["N"]) == created["issuedBefore"]


def test_expired_revocations_are_not_listed(table: Any) -> None:
    table.put_item(
        TableName=TABLE,
        Item={"pk": {"S": "revoked#jti#old"}, "kind": {"S": "revocation"}, "target": {"S": "jti"},
              "value": {"S": "old"}, "revoked_at": {"N": "1"}, "revoked_by": {"S": "x"},
              "expires_at": {"N": "2"}},
    )  # fmt: skip
    post({"jti": "new", "expiresAt": int(time.time()) + 60})
    listed = body_of(invoke("list_revocations", api_event("GET", REVOCATIONS)))
    assert [r["jti"] for r in listed["revocations"]] == ["new"]


def test_listing_pages_with_an_opaque_token(table: Any) -> None:
    for i in range(5):
        post({"jti": f"t{i}", "expiresAt": int(time.time()) + 60})
    seen: list[str] = []
    token = None
    for _ in range(10):
        query = {"limit": "2", **({"nextToken": token} if token else {})}
        page = body_of(invoke("list_revocations", api_event("GET", REVOCATIONS, query=query)))
        seen += [r["jti"] for r in page["revocations"]]
        token = page["nextToken"]
        if not token:
            break
    assert sorted(seen) == [f"t{i}" for i in range(5)]


@pytest.mark.parametrize(
    "body",
    [
        {}, [], "x", {"jti": "a", "sub": "b"}, {"jti": ""}, {"jti": "a b"}, {"jti": 5},
        {"jti": "a", "expiresAt": 1}, {"jti": "a", "expiresAt": "soon"},
        {"jti": "a", "expiresAt": True},
        {"sub": "a", "expiresAt": 99999999999}, {"sub": "x" * 300}, {"jti": "a", "extra": 1},
        {"sub": "a"}, {"sub": "a", "scheme": "api_key"}, {"sub": "a", "scheme": "JWT"},
        {"sub": "a", "scheme": "jwt", "expiresAt": 1}, {"sub": "0", "scheme": {}},
        {"sub": "0", "scheme": ["jwt"]}, {"sub": "0", "scheme": None},
        "not json",
    ],
)  # fmt: skip
def test_bad_revocation_requests_are_400(table: Any, body: Any) -> None:
    response = post(body)
    assert response["statusCode"] == 400
    assert body_of(response)["error"] in ("invalid_revocation", "invalid_body")


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"nextToken": "!!"},
        {"nextToken": "eyJ4IjogMX0="},
    ],
)
def test_bad_list_queries_are_400(table: Any, query: dict[str, str]) -> None:
    assert (
        invoke("list_revocations", api_event("GET", REVOCATIONS, query=query))["statusCode"] == 400
    )


@pytest.mark.parametrize("scopes", ["workflow:read workflow:trigger", "workflow:admin:x", ""])
def test_only_admins_revoke(table: Any, scopes: str) -> None:
    assert post({"sub": "x", "scheme": "jwt"}, scopes=scopes)["statusCode"] == 403
    assert (
        invoke("list_revocations", api_event("GET", REVOCATIONS, scopes=scopes))["statusCode"]
        == 403
    )


def test_revocation_bound_comes_from_the_configuration() -> None:
    """A revoked token stops passing at most `ReauthorizeEvery` + `SECURITY_REFRESH_SECONDS`
    after the revocation: API Gateway's cached policy, built by an authorizer whose snapshot
    of the revocations may be that old (tests/integration/authorizer/test_snapshot.py checks
    the second part)."""
    template = load_template()
    ttl = int(template["Parameters"]["ReauthorizeEvery"]["Default"])
    env = template["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    refresh = int(env["SECURITY_REFRESH_SECONDS"])
    assert token_revocation_bound_seconds(ttl, refresh) == ttl + refresh == 305
    # A revoked API key also waits out the authorizer's cached AWSCURRENT version.
    secret_cache = int(env["POWERTOOLS_PARAMETERS_MAX_AGE"])
    assert api_key_revocation_bound_seconds(ttl, secret_cache) == 360


SETTINGS = AuthorizerSettings(security=SecuritySettings(table_name=TABLE))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(
        st.sampled_from(["jti", "sub", "scheme", "expiresAt", "x"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=300)
        | st.just("jwt")
        | st.just({})
        | st.just([]),
        max_size=4,
    )
)
def test_any_request_is_parsed_or_refused_cleanly(body: dict[str, Any]) -> None:
    now = time.time()
    try:
        request = parse_request(body, SETTINGS, now)
    except InvalidRevocationError:
        return
    assert request.kind in ("jti", "sub")
    assert now - SETTINGS.clock_skew_seconds < request.expires_at
    assert request.expires_at <= now + SETTINGS.longest_token_lifetime_seconds
    assert 1 <= len(request.value) <= 256
    assert " " not in request.value


@pytest.mark.parametrize("limit", ["²", "٣", "1_0", "+5", " 5", "5 ", "", "1e2"])
def test_a_limit_that_is_not_ascii_digits_is_400(table: Any, limit: str) -> None:
    """`'²'.isdigit()` is true and `int('²')` raises: such a limit once answered 500."""
    event = api_event("GET", REVOCATIONS, query={"limit": limit})
    response = invoke("list_revocations", event)
    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "invalid_limit"


def test_a_revocation_beyond_the_longest_token_lifetime_is_refused_not_shortened(
    table: Any,
) -> None:
    """A 30-day `expiresAt` once answered 201 and was stored for 24 h, after which the revoked
    token passed again. No token the authorizer accepts lives that long: the request is a 400."""
    response = post({"jti": "tok-30d", "expiresAt": int(time.time()) + 30 * 86400})
    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "invalid_revocation"
    assert not table.scan(TableName=TABLE)["Items"]


def test_a_jti_revocation_outlives_its_token_by_the_skew(table: Any) -> None:
    """The authorizer accepts a token until `exp` plus the skew: so long the item must last."""
    expires = int(time.time()) + 600
    post({"jti": "tok-skew", "expiresAt": expires})
    (item,) = table.scan(TableName=TABLE)["Items"]
    assert int(item["expires_at"]["N"]) == expires + 60


@pytest.mark.parametrize("scheme", ["jwt", "oauth"])
def test_a_subject_revocation_names_its_scheme_and_issuer(
    table: Any, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    monkeypatch.setenv("JWT_ISSUER", "https://tokens.example")
    monkeypatch.setenv("OAUTH_ISSUER", "https://idp.example/")
    monkeypatch.setenv("OAUTH_AUDIENCE", "workflow-api")
    default_store.cache_clear()
    created = body_of(post({"sub": "x", "scheme": scheme}))
    issuer = "https://idp.example/" if scheme == "oauth" else "https://tokens.example"
    assert (created["scheme"], created["iss"]) == (scheme, issuer)
    (item,) = table.scan(TableName=TABLE)["Items"]
    assert item["pk"]["S"] == revoked_subject_key(scheme, issuer, "x")
    default_store.cache_clear()
