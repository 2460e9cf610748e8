"""Helpers shared by every test layer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def load_event(relative: str) -> dict[str, Any]:
    """One of the sample events in `events/` (the same files `sam local invoke -e` uses)."""
    data: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return data


API_ID = "a1b2c3d4e5"
ACCOUNT = "123456789012"
REGION = "us-east-1"
STAGE = "v1"


def method_arn(method: str, path: str, stage: str = STAGE) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{stage}/{method}{path}"


def route_arn(method: str, arn_path: str, stage: str = STAGE) -> str:
    """The ARN a policy should list for `<METHOD>/<arn_path>` (arn_path without leading /)."""
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{stage}/{method}/{arn_path}"


def authorizer_event(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    multi: dict[str, list[str]] | None = None,
    source_ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """A REQUEST authorizer event as API Gateway (REST) builds it."""
    headers = dict(headers or {})
    return {
        "type": "REQUEST",
        "methodArn": method_arn(method, path),
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi if multi is not None else {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT,
            "resourceId": "abc123",
            "stage": STAGE,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": source_ip, "userAgent": "pytest"},
            "resourcePath": path,
            "httpMethod": method,
            "apiId": API_ID,
        },
    }


def event_cases(functions: tuple[str, ...]) -> list[Path]:
    """The sample events of `functions` (`events/<function>/<case>.json`), without their
    `<case>.expected.json` siblings."""
    return sorted(
        path
        for function in functions
        for path in (EVENTS / function).glob("*.json")
        if not path.name.endswith(".expected.json")
    )


def expected_outcome(event_path: Path) -> dict[str, Any]:
    """What `<case>.expected.json` documents for a sample event."""
    data: dict[str, Any] = json.loads(event_path.with_suffix(".expected.json").read_text())
    return data


def contains(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: dicts key by key (a subset), anything else equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def assert_every_function_has_documented_events(
    cases: list[Path], functions: tuple[str, ...]
) -> None:
    assert {path.parent.name for path in cases} == set(functions)
    for path in cases:
        assert path.with_suffix(".expected.json").is_file(), path


def covers(policy: dict[str, Any], resource: str) -> bool:
    """Whether an Allow statement of the policy matches `resource`, as API Gateway evaluates
    execute-api ARNs (`*` spans any characters, `/` included). The oracle for `permits`."""
    for statement in policy["policyDocument"]["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for pattern in statement["Resource"]:
            wildcard = ".*".join(re.escape(part) for part in pattern.split("*"))
            if re.fullmatch(wildcard, resource):
                return True
    return False


def create_security_table(client: Any, name: str) -> None:
    """The security table exactly as template.yaml declares it (keys, indexes, billing)."""
    from local.cfn import load_template  # noqa: PLC0415 - yaml, for table tests only

    props = load_template(ROOT / "template.yaml")["Resources"]["SecurityTable"]["Properties"]
    keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    client.create_table(TableName=name, **{key: props[key] for key in keys})
