"""moto's WAFv2 and DynamoDB in-process: the IP sets as template.yaml declares them, the
security table as it declares it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import moto
import pytest

from local.cfn import load_template
from shared.edge import IpSetRef
from tests.helpers import ROOT, create_security_table

TABLE = "security-edge"
REGION = "us-east-1"


@dataclass
class Waf:
    client: Any
    sets: dict[str, IpSetRef]

    def addresses(self, logical_id: str) -> set[str]:
        found = self.client.get_ip_set(**self.sets[logical_id].key())
        return set(found["IPSet"]["Addresses"])

    def put(self, logical_id: str, addresses: list[str]) -> None:
        """Another writer: a plain get-and-update of the set."""
        ref = self.sets[logical_id]
        token = self.client.get_ip_set(**ref.key())["LockToken"]
        self.client.update_ip_set(**ref.key(), Addresses=addresses, LockToken=token)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    create_security_table(client, TABLE)
    return client


@pytest.fixture
def waf(aws: None) -> Waf:
    """The template's four IP sets, created in moto with their declared properties."""
    client = boto3.client("wafv2", region_name=REGION)
    resources = load_template(ROOT / "template.yaml")["Resources"]
    sets = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::WAFv2::IPSet":
            continue
        props = resource["Properties"]
        summary = client.create_ip_set(
            Name=f"edge-test-{logical_id}",
            Scope=props["Scope"],
            IPAddressVersion=props["IPAddressVersion"],
            Addresses=props["Addresses"],
            Description=props["Description"],
        )["Summary"]
        sets[logical_id] = IpSetRef.from_arn(summary["ARN"])
    return Waf(client, sets)
