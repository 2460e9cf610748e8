"""The template, parsed once, and its offline translation to plain CloudFormation."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from local.cfn import Resolver
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


def expand_language_extensions(sam: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """What the AWS::LanguageExtensions transform does before SAM's, where SAM needs it: the
    `Fn::If`s of every API's Auth block resolved for these parameter values (SAM accepts only
    literal lists there). Elsewhere CloudFormation resolves them at deploy time all the same."""
    resolver = Resolver(sam, parameters=dict(parameters))

    def pick(value: Any) -> Any:
        if isinstance(value, list):
            return [pick(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::If"}:
            condition, when_true, when_false = value["Fn::If"]
            return pick(when_true if resolver.condition(condition) else when_false)
        return {key: pick(item) for key, item in value.items()}

    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Api" and "Auth" in resource["Properties"]:
            resource["Properties"]["Auth"] = pick(resource["Properties"]["Auth"])
    return sam


def placeholders(sam: dict[str, Any]) -> dict[str, Any]:
    """Local code locations become s3:// placeholders (the translator cannot package), and the
    state machine's definition file is inlined, as `sam build`/`sam package` would."""
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://placeholder-bucket/code.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://placeholder-bucket/layer.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())
    return sam


@cache
def _translate(parameter_items: tuple[tuple[str, str], ...]) -> str:
    parameters = dict(parameter_items)
    sam = placeholders(expand_language_extensions(copy.deepcopy(load_template()), parameters))
    return json.dumps(transform(sam, parameters, _StaticPolicies()))


def translate(**parameters: str) -> dict[str, Any]:
    """template.yaml as CloudFormation would receive it for these parameter values, translated
    offline (AWS::LanguageExtensions, then AWS::Serverless)."""
    result: dict[str, Any] = json.loads(_translate(tuple(sorted(parameters.items()))))
    return result


@pytest.fixture(scope="session")
def translated() -> dict[str, Any]:
    """template.yaml with its default parameters as CloudFormation would receive it."""
    return translate()
