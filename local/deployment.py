"""What the local run created for the template's resources, and the gateway built from it.

`python -m local.run` creates the resources in moto and writes a `Deployment` as JSON; the
gateway process reads it back, so `Ref`/`Fn::GetAtt` in the template resolve to the real local
names and ARNs (the same way CloudFormation would resolve them on deploy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import Physical, Resolver, load_template
from local.gateway.app import Gateway
from local.gateway.events import ApiIdentity
from local.gateway.lambdas import LocalFunction
from local.template import read_api

LOCAL_API_ID = "localapi01"
LOCAL_ACCOUNT = "123456789012"  # moto's default account
LOCAL_STACK = "workflow-api-local"
ALL_FUNCTIONS = "*"


@dataclass(frozen=True, slots=True)
class Deployment:
    parameters: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, Physical] = field(default_factory=dict)
    environment: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Environment overrides per function logical id (`*`: every function)."""
    region: str = "us-east-1"
    account: str = LOCAL_ACCOUNT
    api_id: str = LOCAL_API_ID

    def to_json(self) -> dict[str, Any]:
        return {
            "parameters": dict(self.parameters),
            "resources": {
                name: {"ref": p.ref, "attributes": dict(p.attributes)}
                for name, p in self.resources.items()
            },
            "environment": {name: dict(env) for name, env in self.environment.items()},
            "region": self.region,
            "account": self.account,
            "api_id": self.api_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deployment:
        return cls(
            parameters=dict(data.get("parameters") or {}),
            resources={
                name: Physical(item["ref"], dict(item.get("attributes") or {}))
                for name, item in (data.get("resources") or {}).items()
            },
            environment={k: dict(v) for k, v in (data.get("environment") or {}).items()},
            region=data.get("region", "us-east-1"),
            account=data.get("account", LOCAL_ACCOUNT),
            api_id=data.get("api_id", LOCAL_API_ID),
        )

    def resolver(self, template: Mapping[str, Any]) -> Resolver:
        resources = default_physicals(template, self.region, self.account, self.api_id)
        resources.update(self.resources)
        return Resolver(
            template,
            parameters=dict(self.parameters),
            resources=resources,
            region=self.region,
            account=self.account,
            stack_name=LOCAL_STACK,
        )


def default_physicals(
    template: Mapping[str, Any], region: str, account: str, api_id: str
) -> dict[str, Physical]:
    """Names and ARNs for resources the local run does not create (roles, functions, alarms).

    They only need to be well-formed, for environment variables that mention them.
    """
    physicals: dict[str, Physical] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        kind = str(resource.get("Type", ""))
        name = f"{LOCAL_STACK}-{logical_id}"
        service = kind.split("::")[1].lower() if kind.count("::") >= 2 else "cloudformation"
        if kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            physicals[logical_id] = Physical(api_id, {"RootResourceId": "local"})
        elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            physicals[logical_id] = Physical(name, {"Arn": arn})
        else:
            arn = f"arn:aws:{service}:{region}:{account}:{name}"
            physicals[logical_id] = Physical(name, {"Arn": arn, "Name": name})
    return physicals


def build_gateway(template_path: Path, deployment: Deployment, *, warm: bool = False) -> Gateway:
    """The gateway for the template's API, its functions run in this process."""
    template = load_template(template_path)
    resolver = deployment.resolver(template)
    api = read_api(template, resolver, template_path.resolve().parent)
    arn_prefix = f"arn:aws:lambda:{deployment.region}:{deployment.account}:function:{LOCAL_STACK}-"
    everyone = deployment.environment.get(ALL_FUNCTIONS, {})
    functions = {
        logical_id: LocalFunction(
            spec,
            arn_prefix,
            {**spec.environment, **everyone, **deployment.environment.get(logical_id, {})},
        )
        for logical_id, spec in api.functions.items()
    }
    if warm:
        for function in functions.values():
            function.warm()
    identity = ApiIdentity(deployment.api_id, api.stage, deployment.region, deployment.account)
    return Gateway(api, identity, functions)
