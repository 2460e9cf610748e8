"""The `LockedSources` index, against moto's DynamoDB with the table as template.yaml declares
it: the failure counter's one write keeps the index current, and one query lists exactly the
sources at or over the threshold in the current window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest

from shared.security_table import count_failure, locked_sources
from tests.helpers import create_security_table

TABLE = "security-locked"
WINDOW = 300
NOW = 1_800_000_000.0  # a window boundary is at a multiple of 300: 1_799_999_700 .. _000_000


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws(config={"core": {"reset_boto3_session": False}}):
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_security_table(client, TABLE)
        yield client


def fail(client: Any, ip: str, times: int, now: float = NOW) -> int:
    count = 0
    for _ in range(times):
        response = client.update_item(TableName=TABLE, **count_failure(ip, now, WINDOW))
        count = int(response["Attributes"]["count"]["N"])
    return count


def locked(client: Any, now: float = NOW, threshold: int = 3, cap: int = 100) -> Any:
    return locked_sources(
        client, TABLE, now=now, window_seconds=WINDOW, threshold=threshold, cap=cap
    )


def test_only_sources_at_or_over_the_threshold_are_listed(dynamodb: Any) -> None:
    assert fail(dynamodb, "198.51.100.1", 3) == 3
    fail(dynamodb, "198.51.100.2", 2)
    fail(dynamodb, "2001:db8::7", 5)
    result = locked(dynamodb)
    assert result.ips == {"198.51.100.1", "2001:db8::7"}
    assert result.complete
    assert result.until(WINDOW) == (int(NOW // WINDOW) + 1) * WINDOW


def test_a_lockout_ends_with_its_window(dynamodb: Any) -> None:
    fail(dynamodb, "198.51.100.1", 3)
    assert locked(dynamodb, now=NOW + WINDOW).ips == frozenset()
    fail(dynamodb, "198.51.100.9", 3, now=NOW + WINDOW)
    assert locked(dynamodb, now=NOW + WINDOW).ips == {"198.51.100.9"}
    assert locked(dynamodb).ips == {"198.51.100.1"}


def test_past_the_cap_the_answer_says_it_is_incomplete(dynamodb: Any) -> None:
    for n in range(12):
        fail(dynamodb, f"203.0.113.{n}", 3)
    result = locked(dynamodb, cap=5)
    assert len(result.ips) == 5
    assert not result.complete
    assert locked(dynamodb, cap=12).complete


def test_the_query_pages_until_it_has_every_source(dynamodb: Any) -> None:
    """A page smaller than the set (DynamoDB pages at 1 MB; forced here with a client that
    returns one item per page) still yields every source."""

    class OneAtATime:
        def query(self, **kwargs: Any) -> Any:
            return dynamodb.query(**{**kwargs, "Limit": 1})

    for n in range(4):
        fail(dynamodb, f"203.0.113.{n}", 3)
    result = locked(OneAtATime())
    assert result.ips == {f"203.0.113.{n}" for n in range(4)}
    assert result.complete
