"""The light DynamoDB client over real HTTP: against moto's server (the security table exactly
as template.yaml declares it) for the calls the authorizer makes, and against loopback fakes
for throttling, 5xx, timeouts and answers that are not DynamoDB's."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from moto.server import ThreadedMotoServer

from authorizer import guard
from authorizer.light_dynamodb import LightDynamoDB, endpoint_from_environment
from authorizer.sigv4 import Credentials
from shared.security_table import (
    REVOCATION_KIND,
    REVOCATIONS_INDEX,
    count_failure,
    locked_sources,
)
from tests.helpers import create_security_table

TABLE = "security-light"
SECRET_KEY = "light-client-secret-key-never-logged"
SESSION_TOKEN = "light-client-session-token-never-logged"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def table(moto_url: str) -> Iterator[Any]:
    boto = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    create_security_table(boto, TABLE)
    yield boto
    boto.delete_table(TableName=TABLE)


def light(endpoint: str, **overrides: Any) -> LightDynamoDB:
    options: dict[str, Any] = {
        "endpoint": endpoint,
        "region": "us-east-1",
        "credentials": Credentials("testing", SECRET_KEY, SESSION_TOKEN),
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "max_retries": 2,
        "sleep": lambda _: None,
        **overrides,
    }
    return LightDynamoDB(**options)


# --- against moto's server -------------------------------------------------------------------


def test_query_pages_through_an_index(table: Any, moto_url: str) -> None:
    for number in range(7):
        table.put_item(
            TableName=TABLE,
            Item={"pk": {"S": f"revoked#{number}"}, "kind": {"S": REVOCATION_KIND}},
        )
    client = light(moto_url)
    query: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": REVOCATIONS_INDEX,
        "KeyConditionExpression": "#kind = :k",
        "ExpressionAttributeNames": {"#kind": "kind"},
        "ExpressionAttributeValues": {":k": {"S": REVOCATION_KIND}},
        "Limit": 3,
    }
    seen: list[str] = []
    pages = 0
    while True:
        page = client.query(**query)
        pages += 1
        assert page["ResponseMetadata"]["HTTPStatusCode"] == 200
        seen += [item["pk"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == sorted(f"revoked#{n}" for n in range(7))
    assert pages >= 3
    # boto3 gives the same answer for the same first page.
    first = {k: v for k, v in query.items() if k != "ExclusiveStartKey"}
    ours = client.query(**first)
    theirs = table.query(**first)
    assert ours["Items"] == theirs["Items"]
    assert ours["LastEvaluatedKey"] == theirs["LastEvaluatedKey"]


def test_update_item_counts_failures_and_feeds_the_locked_sources_index(
    table: Any, moto_url: str
) -> None:
    client = light(moto_url)
    now = time.time()
    for expected in (1, 2, 3):
        update = count_failure("203.0.113.9", now, 300)
        response = client.update_item(TableName=TABLE, **update)
        assert response["Attributes"]["count"] == {"N": str(expected)}
    locked = locked_sources(client, TABLE, now=now, window_seconds=300, threshold=3, cap=10)
    assert locked.ips == frozenset({"203.0.113.9"})


def test_a_failed_condition_raises_conditional_check_failed(table: Any, moto_url: str) -> None:
    client = light(moto_url)
    item = {"pk": {"S": "assertion#c#1"}, "expires_at": {"N": "9999999999"}}
    client.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as caught:
        client.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert caught.value.operation_name == "PutItem"
    assert SECRET_KEY not in str(caught.value)


def test_get_item_and_batch_get_item_read_what_was_written(table: Any, moto_url: str) -> None:
    client = light(moto_url)
    for name in ("a", "b"):
        client.put_item(TableName=TABLE, Item={"pk": {"S": name}, "v": {"N": "1"}})
    assert client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    assert "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": "missing"}})
    keys = [{"pk": {"S": name}} for name in ("a", "b", "missing")]
    response = client.batch_get_item(RequestItems={TABLE: {"Keys": keys}})
    assert sorted(item["pk"]["S"] for item in response["Responses"][TABLE]) == ["a", "b"]
    assert not response.get("UnprocessedKeys")


def test_an_unknown_table_is_a_client_error_with_the_service_code(moto_url: str) -> None:
    with pytest.raises(ClientError) as caught:
        light(moto_url).get_item(TableName="no-such-table", Key={"pk": {"S": "a"}})
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_guard_reads_the_table_through_it(
    table: Any, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    client = guard.default_dynamodb_client()
    assert isinstance(client, LightDynamoDB)
    assert (client.connect_timeout, client.read_timeout, client.max_retries) == (
        guard.CONNECT_TIMEOUT,
        guard.READ_TIMEOUT,
        guard.MAX_RETRIES,
    )
    assert client.batch_get_item(RequestItems={TABLE: {"Keys": [{"pk": {"S": "x"}}]}})[
        "Responses"
    ] == {TABLE: []}


# --- the environment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_ENDPOINT_URL_DYNAMODB": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2"}, "http://a:1"),
        ({"AWS_ENDPOINT_URL": "http://b:2"}, "http://b:2"),
        ({"AWS_ENDPOINT_URL": "http://b:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
         "https://dynamodb.eu-west-3.amazonaws.com"),
        ({}, "https://dynamodb.eu-west-3.amazonaws.com"),
    ],
)  # fmt: skip
def test_endpoint_as_boto3_chooses_it(env: dict[str, str], expected: str) -> None:
    assert endpoint_from_environment(env, "eu-west-3") == expected


def test_china_regions_use_their_own_domain() -> None:
    assert (
        endpoint_from_environment({}, "cn-north-1")
        == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    )


@pytest.mark.parametrize(
    "region", ["evil.example/#", "us-east-1.evil.example", "a@evil.example", "us-east-1\n", "-x"]
)
def test_a_region_that_is_not_a_host_label_never_builds_an_endpoint(
    region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The region goes into the endpoint's host: one that is not a DNS label would send the
    signed request (and the session token) elsewhere. boto3 refuses it; so does the fallback."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": region}
    timeouts = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_retries": 2}
    assert LightDynamoDB.from_environment(env, **timeouts) is None
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        client = guard.default_dynamodb_client()
    except Exception as error:  # boto3 refused the region itself
        assert type(error).__name__ == "InvalidRegionError"
    else:  # boto3 took its region from elsewhere (AWS_DEFAULT_REGION)
        assert not isinstance(client, LightDynamoDB)
        assert "evil" not in client.meta.endpoint_url


@pytest.mark.parametrize("missing", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "region"])
def test_without_environment_credentials_or_region_boto3_is_used(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("AWS_REGION", "AWS_DEFAULT_REGION") if missing == "region" else (missing,)
    env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"}
    for name in names:
        env.pop(name, None)
        monkeypatch.delenv(name, raising=False)
    timeouts = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_retries": 2}
    assert LightDynamoDB.from_environment(env, **timeouts) is None
    if missing == "AWS_ACCESS_KEY_ID":  # boto3 then looks for other credential sources
        client = guard.default_dynamodb_client()
        assert not isinstance(client, LightDynamoDB)
        assert client.meta.service_model.service_name == "dynamodb"


# --- against loopback fakes ------------------------------------------------------------------


class Fake:
    """A scripted DynamoDB: each request pops the next (status, body, delay) answer."""

    def __init__(self, answers: list[tuple[int, bytes, float]]) -> None:
        self.answers = answers
        self.requests: list[dict[str, str]] = []


@contextlib.contextmanager
def fake_dynamodb(answers: list[tuple[int, bytes, float]]) -> Iterator[tuple[Fake, str]]:
    fake = Fake(list(answers))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fake.requests.append(dict(self.headers.items()))
            status, body, delay = fake.answers.pop(0) if fake.answers else (200, b"{}", 0.0)
            if delay:
                time.sleep(delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def error_body(code: str) -> bytes:
    return json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "m"}
    ).encode()


def test_throttling_and_5xx_are_retried_then_succeed() -> None:
    answers = [
        (400, error_body("ProvisionedThroughputExceededException"), 0.0),
        (503, b"<html>unavailable</html>", 0.0),
        (200, b'{"Items": [], "Count": 0}', 0.0),
    ]
    sleeps: list[float] = []
    with fake_dynamodb(answers) as (fake, url):
        response = light(url, sleep=sleeps.append).query(TableName=TABLE)
    assert response["Count"] == 0
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(fake.requests) == 3
    assert len(sleeps) == 2
    assert all(0 <= pause <= 0.5 for pause in sleeps)
    # Every attempt is signed, with the session token, for the DynamoDB target.
    for headers in fake.requests:
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
        assert headers["X-Amz-Target"] == "DynamoDB_20120810.Query"
        assert headers["X-Amz-Security-Token"] == SESSION_TOKEN


def test_retries_are_bounded() -> None:
    answers = [(400, error_body("ThrottlingException"), 0.0)] * 5
    with fake_dynamodb(answers) as (fake, url), pytest.raises(ClientError) as caught:
        light(url, max_retries=2).query(TableName=TABLE)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert len(fake.requests) == 3


def test_a_refusal_is_not_retried() -> None:
    answers = [(400, error_body("ValidationException"), 0.0)]
    with fake_dynamodb(answers) as (fake, url), pytest.raises(ClientError) as caught:
        light(url).query(TableName=TABLE)
    assert caught.value.response["Error"] == {"Code": "ValidationException", "Message": "m"}
    assert len(fake.requests) == 1


def test_a_5xx_that_is_not_json_ends_as_a_client_error_with_the_status() -> None:
    answers = [(502, b"<html>bad gateway</html>", 0.0)] * 3
    with fake_dynamodb(answers) as (_, url), pytest.raises(ClientError) as caught:
        light(url).query(TableName=TABLE)
    assert caught.value.response["Error"]["Code"] == "502"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_success_that_is_not_a_json_object_is_an_error(body: bytes) -> None:
    with fake_dynamodb([(200, body, 0.0)]) as (_, url), pytest.raises(ClientError) as caught:
        light(url).query(TableName=TABLE)
    assert caught.value.response["Error"]["Code"] == "InvalidResponse"


def test_a_slow_answer_times_out_within_the_read_timeout_per_attempt() -> None:
    answers = [(200, b"{}", 2.0)] * 3
    with fake_dynamodb(answers) as (fake, url):
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            light(url, read_timeout=0.2, max_retries=1).query(TableName=TABLE)
        elapsed = time.monotonic() - started
    assert len(fake.requests) == 2
    assert elapsed < 1.5


def test_nothing_listening_is_a_connection_error() -> None:
    with contextlib.closing(__import__("socket").socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises((EndpointConnectionError, ConnectTimeoutError)) as caught:
        light(f"http://127.0.0.1:{port}").query(TableName=TABLE)
    assert SECRET_KEY not in str(caught.value)
    assert SESSION_TOKEN not in str(caught.value)


def test_the_client_never_prints_its_credentials() -> None:
    client = light("http://127.0.0.1:1")
    assert SECRET_KEY not in repr(client.__dict__)
    assert SESSION_TOKEN not in repr(client.__dict__)
