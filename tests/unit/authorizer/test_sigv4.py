"""The hand-written SigV4 signature equals botocore's `SigV4Auth` for the same request and
timestamp, whatever the body, target, region, host or session token."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer.sigv4 import Credentials, sign_post

NOW = datetime(2026, 12, 1, 12, 34, 56, tzinfo=UTC)

regions = st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2", "cn-north-1"])
targets = st.sampled_from(["Query", "UpdateItem", "PutItem", "GetItem", "BatchGetItem"]).map(
    lambda op: "DynamoDB_20120810." + op
)
hosts = st.sampled_from(
    ["dynamodb.us-east-1.amazonaws.com", "127.0.0.1:5000", "localhost:8000", "[::1]:4566"]
)
tokens = st.none() | st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=400
)
keys = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60)


def botocore_authorization(
    credentials: Credentials, region: str, host: str, target: str, body: bytes
) -> dict[str, str]:
    scheme_host = f"https://{host}" if ":" not in host.rsplit("]", 1)[-1] else f"http://{host}"
    request = AWSRequest(
        method="POST",
        url=f"{scheme_host}/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
    )
    auth = SigV4Auth(
        BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token),
        "dynamodb",
        region,
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        auth.add_auth(request)
    return dict(request.headers.items())


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=2048),
    target=targets,
    region=regions,
    host=hosts,
    access_key=keys,
    secret_key=keys,
    token=tokens,
)
def test_signature_equals_botocores(
    body: bytes, target: str, region: str, host: str, access_key: str, secret_key: str,
    token: str | None,
) -> None:  # fmt: skip
    credentials = Credentials(access_key, secret_key, token)
    ours = sign_post(
        credentials=credentials,
        region=region,
        service="dynamodb",
        host=host,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
        body=body,
        now=NOW,
    )
    theirs = botocore_authorization(credentials, region, host, target, body)
    assert ours["Authorization"] == theirs["Authorization"]
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"] == "20261201T123456Z"
    assert ours.get("X-Amz-Security-Token") == theirs.get("X-Amz-Security-Token")


def test_a_changed_body_changes_the_signature() -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret")
    common = {
        "credentials": credentials,
        "region": "us-east-1",
        "service": "dynamodb",
        "host": "dynamodb.us-east-1.amazonaws.com",
        "headers": {"X-Amz-Target": "DynamoDB_20120810.Query"},
        "now": NOW,
    }
    one = sign_post(body=b"{}", **common)  # type: ignore[arg-type]
    two = sign_post(body=b"{ }", **common)  # type: ignore[arg-type]
    assert one["Authorization"] != two["Authorization"]


def test_credentials_never_print_their_secrets() -> None:
    credentials = Credentials("AKIDEXAMPLE", "the-secret-key", "the-session-token")
    assert "the-secret-key" not in repr(credentials)
    assert "the-session-token" not in repr(credentials)
    assert "the-secret-key" not in str(credentials)
