"""Creating the template's AWS resources in moto: secrets, tables, state machines, WAF IP
sets, the demo API key.

Names, definitions and substitutions are read from `template.yaml`, so the local run cannot
drift from the deployed stack. Secret values are generated here, like CloudFormation's
`GenerateSecretString` would; the signing secret gets the project's own format.
"""

from __future__ import annotations

import io
import json
import secrets
import string
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.cfn import Physical, Resolver
from shared.secret_formats import is_signing_secret, new_signing_secret

SECRET = "AWS::SecretsManager::Secret"
STATE_MACHINES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
#: moto checks nothing about the role, but Step Functions requires one.
LOCAL_ROLE = "arn:aws:iam::123456789012:role/workflow-api-local-states"


@dataclass(frozen=True, slots=True)
class Created:
    logical_id: str
    kind: str
    physical: Physical


def signing_secret_ids(template: Mapping[str, Any]) -> set[str]:
    """Logical ids of secrets that some function reads as `JWT_SECRET_ID`."""
    found: set[str] = set()
    functions = [
        r for r in template["Resources"].values() if r.get("Type") == "AWS::Serverless::Function"
    ]
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    for props in [globals_fn, *[f.get("Properties") or {} for f in functions]]:
        value = ((props.get("Environment") or {}).get("Variables") or {}).get("JWT_SECRET_ID")
        text = json.dumps(value)
        found |= {
            logical_id
            for logical_id, res in template["Resources"].items()
            if res.get("Type") == SECRET and f'"{logical_id}"' in text
        }
    return found


def _generated(spec: Mapping[str, Any]) -> str:
    """What `GenerateSecretString` would store (length and key from the template)."""
    length = int(spec.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    value = "".join(secrets.choice(alphabet) for _ in range(length))
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if template and key:
        data = json.loads(template)
        data[key] = value
        return json.dumps(data)
    return value


def create_secrets(
    template: Mapping[str, Any], resolver: Resolver, client: Any
) -> dict[str, Physical]:
    signing = signing_secret_ids(template)
    created: dict[str, Physical] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != SECRET:
            continue
        props = res.get("Properties") or {}
        name = str(resolver.resolve(props.get("Name", f"{resolver.stack_name}-{logical_id}")))
        if "SecretString" in props:
            value = str(resolver.resolve(props["SecretString"]))
        else:
            value = _generated(resolver.resolve(props.get("GenerateSecretString") or {}))
        if logical_id in signing or is_signing_secret(value):
            value = new_signing_secret()  # a kid and a key of the length the authorizer needs
        arn = client.create_secret(Name=name, SecretString=value)["ARN"]
        # `Ref` of a secret is its ARN; `Fn::GetAtt .Id` too.
        created[logical_id] = Physical(arn, {"Id": arn, "Name": name, "Arn": arn})
    return created


def _definition(props: Mapping[str, Any], resolver: Resolver, root: Path) -> str:
    if "Definition" in props:
        text = json.dumps(resolver.resolve(props["Definition"]))
    elif "DefinitionString" in props:
        text = str(resolver.resolve(props["DefinitionString"]))
    elif isinstance(props.get("DefinitionUri"), str):
        path = (root / props["DefinitionUri"]).resolve()
        if root.resolve() not in path.parents:
            raise ValueError("DefinitionUri must point inside the repository")
        text = path.read_text()
    else:
        raise ValueError("state machine without Definition, DefinitionString or DefinitionUri")
    substitutions = resolver.resolve(props.get("DefinitionSubstitutions") or {})
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", str(value))
    json.loads(text)  # fail here, not in Step Functions, when a substitution broke the JSON
    return text


def create_state_machines(
    template: Mapping[str, Any], resolver: Resolver, client: Any, root: Path
) -> dict[str, Physical]:
    created: dict[str, Physical] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") not in STATE_MACHINES:
            continue
        props = res.get("Properties") or {}
        name = str(
            resolver.resolve(
                props.get(
                    "Name", props.get("StateMachineName", f"{resolver.stack_name}-{logical_id}")
                )
            )
        )
        kind = str(resolver.resolve(props.get("Type", props.get("StateMachineType", "STANDARD"))))
        arn = client.create_state_machine(
            name=name,
            definition=_definition(props, resolver, root),
            roleArn=LOCAL_ROLE,
            type=kind,
        )["stateMachineArn"]
        # `Ref` of a state machine is its ARN; `Fn::GetAtt .Name` its name.
        created[logical_id] = Physical(arn, {"Arn": arn, "Name": name})
    return created


TABLE = "AWS::DynamoDB::Table"
#: The CreateTable arguments a template's table properties carry over as they are.
_TABLE_KEYS = (
    "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
    "BillingMode", "ProvisionedThroughput",
)  # fmt: skip


def create_tables(
    template: Mapping[str, Any], resolver: Resolver, client: Any
) -> dict[str, Physical]:
    """Create every DynamoDB table of the template (the security table) with its keys and
    indexes. moto does not expire items by TTL; the authorizer checks `expires_at` itself."""
    created: dict[str, Physical] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != TABLE:
            continue
        props = resolver.resolve(res.get("Properties") or {})
        name = str(props.get("TableName", f"{resolver.stack_name}-{logical_id}"))
        arn = client.create_table(
            TableName=name, **{k: props[k] for k in _TABLE_KEYS if k in props}
        )["TableDescription"]["TableArn"]
        # `Ref` of a table is its name; `Fn::GetAtt .Arn` its ARN.
        created[logical_id] = Physical(name, {"Arn": arn})
    return created


def register_functions(
    template: Mapping[str, Any], resolver: Resolver, iam: Any, lambda_client: Any
) -> dict[str, Physical]:
    """Register every function with moto's Lambda, code-less, under its local name.

    Nothing runs there (the gateway runs the functions in-process); it exists so that calls
    naming a function by ARN are accepted, e.g. `RotateSecret` with the rotation function when
    the admin API issues a key. moto cannot execute it without Docker, so a rotation started
    through Secrets Manager does not run locally (`python -m wfctl api-keys rotate` does).
    """
    role = iam.create_role(
        RoleName=f"{resolver.stack_name}-lambda",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    created: dict[str, Physical] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        name = f"{resolver.stack_name}-{logical_id}"
        arn = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="app.lambda_handler",
            Code={"ZipFile": _STUB_ZIP},
        )["FunctionArn"]
        created[logical_id] = Physical(name, {"Arn": arn})
    return created


def _stub_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


_STUB_ZIP = _stub_zip()


IP_SET = "AWS::WAFv2::IPSet"


def create_ip_sets(
    template: Mapping[str, Any], resolver: Resolver, client: Any
) -> dict[str, Physical]:
    """Create the template's WAF IP sets (the edge functions' `BlockedSources` and `ThreatFeed`
    sets) when its conditions deploy them. The web ACL itself is not created: the local gateway
    has no edge, and the lockout is still enforced by the authorizer."""
    created: dict[str, Physical] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != IP_SET:
            continue
        if "Condition" in res and not resolver.condition(str(res["Condition"])):
            continue
        props = resolver.resolve(res.get("Properties") or {})
        summary = client.create_ip_set(
            Name=str(props.get("Name", f"{resolver.stack_name}-{logical_id}")),
            Scope=str(props["Scope"]),
            IPAddressVersion=str(props["IPAddressVersion"]),
            Addresses=list(props.get("Addresses") or []),
            Description=str(props.get("Description", logical_id)),
        )["Summary"]
        # `Ref` of an IP set is name|id|scope; `Fn::GetAtt` gives `Arn` and `Id`.
        ref = f"{summary['Name']}|{summary['Id']}|{props['Scope']}"
        created[logical_id] = Physical(ref, {"Arn": summary["ARN"], "Id": summary["Id"]})
    return created
