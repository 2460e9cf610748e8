"""The edge defence as CloudFormation receives it (translated offline): the web ACL and its
five rules in order, its association with the stage, the IP sets, the two schedules, the edge
functions' least-privilege IAM, the alarms, and `EnableWaf=false` removing all of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.cfn import Resolver
from tests.unit.template.conftest import load_template

WAF_TYPES = ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation", "AWS::WAFv2::IPSet")
IP_SETS = ("BlockedSourcesIpv4", "BlockedSourcesIpv6", "ThreatFeedIpv4", "ThreatFeedIpv6")
EDGE_FUNCTIONS = ("SyncBlockedSourcesFunction", "ImportThreatFeedFunction")


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _grants(translated: dict[str, Any], role: str) -> set[tuple[str, str]]:
    found = set()
    for policy in translated["Resources"][role]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in actions if isinstance(actions, list) else [actions]:
                for resource in resources if isinstance(resources, list) else [resources]:
                    found.add((action, json.dumps(resource, sort_keys=True)))
    return found


def _web_acl(translated: dict[str, Any]) -> dict[str, Any]:
    acl: dict[str, Any] = translated["Resources"]["WebAcl"]["Properties"]
    return acl


def test_waf_is_on_by_default(translated: dict[str, Any]) -> None:
    parameters = translated["Parameters"]
    assert parameters["EnableWaf"]["Default"] == "true"
    assert translated["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    rate = parameters["WafRateLimit"]
    # WAF's documented range for a rate-based rule's limit.
    assert (rate["MinValue"], rate["MaxValue"]) == (10, 2_000_000_000)
    assert parameters["WafRateWindowSeconds"]["AllowedValues"] == [60, 120, 300, 600]
    assert parameters["ThreatFeedSchedule"]["Default"] == "rate(1 hour)"
    assert parameters["ThreatFeedUrls"]["Default"] == ""


def test_web_acl_holds_the_five_rules_in_order(translated: dict[str, Any]) -> None:
    acl = _web_acl(translated)
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = sorted(acl["Rules"], key=lambda rule: rule["Priority"])
    assert [rule["Priority"] for rule in rules] == [0, 1, 2, 3, 4]
    reputation, anonymous, rate, blocked, feed = rules

    group = reputation["Statement"]["ManagedRuleGroupStatement"]
    assert (group["VendorName"], group["Name"]) == ("AWS", "AWSManagedRulesAmazonIpReputationList")
    assert reputation["OverrideAction"] == {"None": {}}  # the group's own Block actions apply

    group = anonymous["Statement"]["ManagedRuleGroupStatement"]
    assert (group["VendorName"], group["Name"]) == ("AWS", "AWSManagedRulesAnonymousIpList")
    assert anonymous["OverrideAction"] == {"None": {}}
    assert group["RuleActionOverrides"] == [
        {"Name": "HostingProviderIPList", "ActionToUse": {"Count": {}}}
    ]

    statement = rate["Statement"]["RateBasedStatement"]
    assert rate["Action"] == {"Block": {}}
    assert statement == {
        "AggregateKeyType": "IP",
        "Limit": {"Ref": "WafRateLimit"},
        "EvaluationWindowSec": {"Ref": "WafRateWindowSeconds"},
    }

    for rule, v4, v6 in ((blocked, *IP_SETS[:2]), (feed, *IP_SETS[2:])):
        assert rule["Action"] == {"Block": {}}
        references = rule["Statement"]["OrStatement"]["Statements"]
        assert references == [
            {"IPSetReferenceStatement": {"Arn": _arn(v4)}},
            {"IPSetReferenceStatement": {"Arn": _arn(v6)}},
        ]

    names = [rule["VisibilityConfig"]["MetricName"] for rule in rules]
    names.append(acl["VisibilityConfig"]["MetricName"])
    assert len(set(map(str, names))) == 6
    for rule in rules:
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True


def test_the_association_names_the_stage_sam_generates(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    association = resources["WebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == _arn("WebAcl")
    arn = association["ResourceArn"]["Fn::Sub"]
    assert arn == (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${WorkflowApi}"
        "/stages/${WorkflowApiStage}"
    )
    # A reference to the stage resource: CloudFormation creates the stage first.
    assert resources["WorkflowApiStage"]["Type"] == "AWS::ApiGateway::Stage"


def test_ip_sets_one_per_family(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    for logical_id in IP_SETS:
        props = resources[logical_id]["Properties"]
        assert resources[logical_id]["Type"] == "AWS::WAFv2::IPSet"
        assert props["Scope"] == "REGIONAL"
        assert props["IPAddressVersion"] == ("IPV4" if logical_id.endswith("4") else "IPV6")
        assert props["Addresses"] == []


@pytest.mark.parametrize(
    ("function", "schedule"),
    [
        ("SyncBlockedSourcesFunction", "rate(1 minute)"),
        ("ImportThreatFeedFunction", {"Ref": "ThreatFeedSchedule"}),
    ],
)
def test_edge_functions_run_on_their_schedules(
    translated: dict[str, Any], function: str, schedule: Any
) -> None:
    rules = [
        resource["Properties"]
        for resource in translated["Resources"].values()
        if resource["Type"] == "AWS::Events::Rule"
        and resource["Properties"]["Targets"][0]["Arn"] == _arn(function)
    ]
    assert [rule["ScheduleExpression"] for rule in rules] == [schedule]


def test_the_sweeper_may_read_lockouts_and_write_only_the_blocked_sets(
    translated: dict[str, Any],
) -> None:
    index = {"Fn::Sub": "${SecurityTable.Arn}/index/LockedSources"}
    assert _grants(translated, "SyncBlockedSourcesFunctionRole") == {
        ("dynamodb:Query", json.dumps(index)),
        *{
            (action, json.dumps(_arn(ip_set), sort_keys=True))
            for action in ("wafv2:GetIPSet", "wafv2:UpdateIPSet")
            for ip_set in IP_SETS[:2]
        },
    }
    env = translated["Resources"]["SyncBlockedSourcesFunction"]["Properties"]["Environment"]
    assert env["Variables"]["BLOCKED_SOURCES_IPV4_SET_ARN"] == _arn("BlockedSourcesIpv4")
    assert env["Variables"]["BLOCKED_SOURCES_IPV6_SET_ARN"] == _arn("BlockedSourcesIpv6")
    # The same lockout rules the authorizer counts with.
    authorizer = translated["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]
    for name in ("SECURITY_TABLE_NAME", "LOCKOUT_THRESHOLD", "LOCKOUT_WINDOW_SECONDS"):
        assert env["Variables"][name] == authorizer["Variables"][name], name


def test_the_importer_may_write_only_the_threat_feed_sets(translated: dict[str, Any]) -> None:
    assert _grants(translated, "ImportThreatFeedFunctionRole") == {
        (action, json.dumps(_arn(ip_set), sort_keys=True))
        for action in ("wafv2:GetIPSet", "wafv2:UpdateIPSet")
        for ip_set in IP_SETS[2:]
    }
    env = translated["Resources"]["ImportThreatFeedFunction"]["Properties"]["Environment"]
    assert env["Variables"]["THREAT_FEED_URLS"] == {"Fn::Join": [",", {"Ref": "ThreatFeedUrls"}]}


def test_failed_imports_and_sweeps_are_alarmed(translated: dict[str, Any]) -> None:
    alarms = {
        name: resource["Properties"]
        for name, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    failed = alarms["ThreatFeedImportFailedAlarm"]
    assert (failed["Namespace"], failed["MetricName"]) == ("WorkflowApi", "ThreatFeedImportFailed")
    assert failed["Dimensions"] == [{"Name": "service", "Value": "workflow-api-threat-feed"}]
    importer = translated["Resources"]["ImportThreatFeedFunction"]["Properties"]
    assert importer["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == (
        "workflow-api-threat-feed"
    )
    for alarm, function in (
        ("ThreatFeedFunctionErrorAlarm", "ImportThreatFeedFunction"),
        ("BlockedSourcesSyncErrorAlarm", "SyncBlockedSourcesFunction"),
    ):
        assert alarms[alarm]["MetricName"] == "Errors"
        assert alarms[alarm]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]


def _deployed(enable_waf: str) -> dict[str, Any]:
    """The template's resources that CloudFormation would create with `EnableWaf`."""
    template = load_template()
    resolver = Resolver(template, parameters={"EnableWaf": enable_waf})
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or resolver.condition(resource["Condition"])
    }


def test_enable_waf_false_removes_the_whole_edge() -> None:
    on, off = _deployed("true"), _deployed("false")
    assert {r["Type"] for r in on.values()} >= set(WAF_TYPES)
    removed = set(on) - set(off)
    assert not {r["Type"] for r in off.values()} & set(WAF_TYPES)
    assert removed >= {*IP_SETS, "WebAcl", "WebAclAssociation", *EDGE_FUNCTIONS}
    # Nothing left behind refers to what was removed.
    text = json.dumps(off)
    for name in removed:
        assert f'"{name}"' not in text, name
        assert "${" + name not in text, name
