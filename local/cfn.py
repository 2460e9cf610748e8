"""Reading `template.yaml`: CloudFormation's YAML tags and the intrinsic functions we need.

The local run builds everything from the template (routes, authorizers, environment, secrets,
state machines), so it cannot drift from what is deployed. Only the intrinsics the template can
reasonably use are resolved; anything else fails loudly instead of being guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TemplateError(ValueError):
    """The template has a shape the local run does not understand."""


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that turns `!Ref x` into `{"Ref": x}` and `!Sub s` into `{"Fn::Sub": s}`."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"cannot read the YAML tag !{suffix}")
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template with Resources")
    return data


@dataclass(frozen=True, slots=True)
class Physical:
    """What `Ref` and `Fn::GetAtt` give for one resource in the local run."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Resolver:
    """Resolves intrinsic functions against parameters, pseudo parameters and local resources."""

    template: Mapping[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Physical] = field(default_factory=dict)
    region: str = "us-east-1"
    account: str = "123456789012"
    stack_name: str = "workflow-api-local"

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters") or {}
        for name, value in self.parameters.items():
            spec = declared.get(name)
            if not isinstance(spec, dict):
                raise TemplateError(f"the template has no parameter {name!r}")
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in {str(item) for item in allowed}:
                # CloudFormation refuses such a value before deploying anything.
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        for name, spec in declared.items():
            if name not in self.parameters and isinstance(spec, dict) and "Default" in spec:
                default = spec["Default"]
                self.parameters[name] = (
                    ",".join(map(str, default)) if isinstance(default, list) else str(default)
                )

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/"
            f"{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.resources:
            return self.resources[name].ref
        raise TemplateError(f"Ref to {name!r}, which the local run has not created")

    def get_att(self, name: str, attribute: str) -> str:
        physical = self.resources.get(name)
        if physical is None or attribute not in physical.attributes:
            raise TemplateError(f"Fn::GetAtt {name}.{attribute} is not known to the local run")
        return physical.attributes[attribute]

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self.resolve(conditions[name]))

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by its local result."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        return {key: self.resolve(item) for key, item in value.items()}

    def _function(self, name: str, arg: Any) -> Any:
        if name == "Sub":
            return self._sub(arg)
        if name == "GetAtt":
            logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(logical, self.resolve(attribute))
        if name == "Join":
            separator, items = arg
            return str(separator).join(str(item) for item in self.resolve(items))
        if name == "Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if name == "Split":
            separator, text = self.resolve(arg)
            return str(text).split(separator)
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(item) for item in arg)
        if name == "Or":
            return any(self.resolve(item) for item in arg)
        if name == "FindInMap":
            map_name, top, second = self.resolve(arg)
            return self.template["Mappings"][map_name][top][second]
        if name == "ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"Fn::{name} is not supported by the local run")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], self.resolve(arg[1])) if isinstance(arg, list) else (arg, {})

        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # `${!Literal}` is written as `${Literal}`
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, str(text))


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
