"""The template, parsed once, and its offline translation to plain CloudFormation."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.helpers import ROOT

TEMPLATE_PATH = ROOT / "template.yaml"

#: The only AWS managed policies SAM attaches here (the translator would ask IAM otherwise).
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ),
}


class _StaticPolicies:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


def load_template() -> dict[str, Any]:
    data: dict[str, Any] = yaml_parse(TEMPLATE_PATH.read_text())  # type: ignore[no-untyped-call]
    return data


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def translated() -> dict[str, Any]:
    """template.yaml as CloudFormation would receive it, translated offline.

    Local code locations become s3:// placeholders (the translator cannot package), and the
    state machine's definition file is inlined, as `sam build`/`sam package` would.
    """
    sam = copy.deepcopy(load_template())
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://placeholder-bucket/code.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://placeholder-bucket/layer.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())
    result: dict[str, Any] = transform(sam, {}, _StaticPolicies())
    return result
