"""`make run` creates what template.yaml declares, with the names it declares (moto in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import moto
import pytest

from local.cfn import load_template
from local.deployment import Deployment
from local.seed import create_secrets, create_state_machines, register_functions
from local.template import read_api
from shared.secret_formats import parse_signing_secret
from tests.helpers import ROOT

TEMPLATE = ROOT / "template.yaml"


@pytest.fixture
def aws() -> Iterator[None]:
    with moto.mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield


@pytest.mark.usefixtures("aws")
def test_template_resources_are_created_and_wired_into_function_environments() -> None:
    template = load_template(TEMPLATE)
    resolver = Deployment().resolver(template)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    states = boto3.client("stepfunctions", region_name="us-east-1")
    created = create_secrets(template, resolver, secrets)
    resolver.resources.update(created)
    functions = register_functions(
        template,
        resolver,
        boto3.client("iam", region_name="us-east-1"),
        boto3.client("lambda", region_name="us-east-1"),
    )
    resolver.resources.update(functions)
    machines = create_state_machines(template, resolver, states, ROOT)

    # The signing secret: the template's name, the project's format, a key long enough.
    signing = created["SigningSecret"]
    assert signing.attributes["Name"] == "workflow-api-local/jwt-signing-key"
    value = secrets.get_secret_value(SecretId=signing.ref)["SecretString"]
    assert len(parse_signing_secret(value).key) >= 32

    # The demo workflow: the template's name and definition.
    demo = machines["DemoWorkflow"]
    assert demo.attributes["Name"] == "workflow-api-local-demo"
    definition = states.describe_state_machine(stateMachineArn=demo.ref)["definition"]
    assert json.loads(definition) == json.loads((ROOT / "statemachines/demo.asl.json").read_text())

    # Functions see those very resources through Ref / Fn::Sub / Fn::GetAtt.
    deployment = Deployment(resources={**created, **functions, **machines})
    api = read_api(template, deployment.resolver(template), ROOT)
    assert api.functions["AuthorizerFunction"].environment["JWT_SECRET_ID"] == signing.ref
    workflows = json.loads(api.functions["StartRunFunction"].environment["WORKFLOWS"])
    wait = machines["WaitWorkflow"]
    assert wait.attributes["Name"] == "workflow-api-local-wait"
    assert workflows == {"demo": demo.ref, "wait": wait.ref}
    rotation = api.functions["CreateApiKeyFunction"].environment["ROTATION_FUNCTION_ARN"]
    lambdas = boto3.client("lambda", region_name="us-east-1")
    assert lambdas.get_function(FunctionName=rotation)["Configuration"]["FunctionArn"] == rotation


@pytest.mark.usefixtures("aws")
def test_the_waf_ip_sets_are_created_for_the_edge_functions() -> None:
    from local.seed import create_ip_sets  # noqa: PLC0415
    from shared.edge import IpSetRef  # noqa: PLC0415

    template = load_template(TEMPLATE)
    resolver = Deployment().resolver(template)
    waf = boto3.client("wafv2", region_name="us-east-1")
    created = create_ip_sets(template, resolver, waf)
    assert set(created) == {
        "BlockedSourcesIpv4", "BlockedSourcesIpv6", "ThreatFeedIpv4", "ThreatFeedIpv6",
    }  # fmt: skip
    api = read_api(template, Deployment(resources=created).resolver(template), ROOT)
    env = api.functions["SyncBlockedSourcesFunction"].environment
    ref = IpSetRef.from_arn(env["BLOCKED_SOURCES_IPV4_SET_ARN"])
    assert waf.get_ip_set(**ref.key())["IPSet"]["IPAddressVersion"] == "IPV4"
    # With EnableWaf=false nothing of the edge is created or served.
    off = Deployment(parameters={"EnableWaf": "false"}).resolver(template)
    assert create_ip_sets(template, off, waf) == {}
    assert "SyncBlockedSourcesFunction" not in read_api(template, off, ROOT).functions
