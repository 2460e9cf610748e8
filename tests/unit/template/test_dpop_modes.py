"""The DPoP mode (`DpopMode`) as CloudFormation receives it, for each of its values: the bearer
authorizer's identity sources and result TTL, the functions' settings, and the local run's
reading of the same template, which must match the translation exactly."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

from local.cfn import TemplateError, load_template
from local.deployment import Deployment
from local.template import read_api
from shared.settings import DEFAULT_DPOP_PROOF_MAX_AGE_SECONDS
from tests.helpers import ROOT
from tests.unit.template.conftest import _StaticPolicies, placeholders, translate

MODES = ("off", "optional", "required")
#: Per mode: the bearer authorizer's identity source and result TTL, with the default
#: ReauthorizeEvery (300).
EXPECTED = {
    "off": ("method.request.header.Authorization", 300),
    "optional": ("method.request.header.Authorization", 0),
    "required": ("method.request.header.Authorization, method.request.header.DPoP", 0),
}


def _authorizers(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    security = translated["Resources"]["WorkflowApi"]["Properties"]["Body"]["securityDefinitions"]
    return {name: d["x-amazon-apigateway-authorizer"] for name, d in security.items()}


def _env(translated: dict[str, Any], function: str) -> dict[str, Any]:
    variables: dict[str, Any] = translated["Resources"][function]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


@pytest.mark.parametrize("mode", MODES)
def test_bearer_authorizer_identity_and_ttl_follow_the_mode(mode: str) -> None:
    authorizers = _authorizers(translate(DpopMode=mode))
    bearer = authorizers["BearerAuthorizer"]
    assert (bearer["identitySource"], bearer["authorizerResultTtlInSeconds"]) == EXPECTED[mode]
    # API keys are not DPoP credentials: their authorizer keeps caching in every mode.
    api_key = authorizers["ApiKeyAuthorizer"]
    assert api_key["identitySource"] == "method.request.header.X-Api-Key"
    assert api_key["authorizerResultTtlInSeconds"] == 300


def test_caching_stays_configurable_when_dpop_is_off() -> None:
    bearer = _authorizers(translate(DpopMode="off", ReauthorizeEvery="60"))["BearerAuthorizer"]
    assert int(bearer["authorizerResultTtlInSeconds"]) == 60
    bearer = _authorizers(translate(DpopMode="optional", ReauthorizeEvery="60"))["BearerAuthorizer"]
    assert bearer["authorizerResultTtlInSeconds"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_authorizer_and_token_service_get_the_dpop_settings(mode: str) -> None:
    translated = translate(DpopMode=mode)
    authorizer = _env(translated, "AuthorizerFunction")
    token = _env(translated, "IssueTokenFunction")
    for env in (authorizer, token):
        assert env["DPOP_MODE"] == {"Ref": "DpopMode"}
        assert env["DPOP_PROOF_MAX_AGE_SECONDS"] == {"Ref": "DpopProofMaxAgeSeconds"}
    # The proof's htu is checked against the same base URL the token service announces.
    assert authorizer["PUBLIC_BASE_URL"] == token["PUBLIC_BASE_URL"]
    assert authorizer["PUBLIC_BASE_URL"] == {
        "Fn::If": ["HasPublicBaseUrl", {"Ref": "PublicBaseUrl"}, {"Ref": "AWS::NoValue"}]
    }


def test_the_mode_parameter_is_off_by_default_with_three_values(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["DpopMode"]
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == list(MODES)
    assert (
        template["Parameters"]["DpopProofMaxAgeSeconds"]["Default"]
        == DEFAULT_DPOP_PROOF_MAX_AGE_SECONDS
    )


def test_the_language_extensions_transform_runs_before_sam(template: dict[str, Any]) -> None:
    """SAM alone refuses a conditional list in the Auth block; AWS::LanguageExtensions (first
    in the list) resolves it for the stack's parameters before SAM runs."""
    assert template["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    sam = placeholders(copy.deepcopy(template))
    with pytest.raises(InvalidDocumentException, match=r"Identity\.Headers"):
        transform(sam, {"DpopMode": "required"}, _StaticPolicies())


@pytest.mark.parametrize("mode", MODES)
def test_the_local_run_serves_what_would_be_deployed(mode: str) -> None:
    """The local gateway's bearer authorizer (identity headers, TTL) equals the translation."""
    template_path = ROOT / "template.yaml"
    template = load_template(template_path)
    deployment = Deployment(parameters={"DpopMode": mode})
    api = read_api(template, deployment.resolver(template), template_path.parent)
    local = api.authorizers["BearerAuthorizer"]
    identity, ttl = EXPECTED[mode]
    assert ", ".join(f"method.request.header.{h}" for h in local.identity_headers) == identity
    assert local.ttl_seconds == ttl
    for function in ("AuthorizerFunction", "IssueTokenFunction"):
        assert api.functions[function].environment["DPOP_MODE"] == mode
        assert api.functions[function].environment["DPOP_PROOF_MAX_AGE_SECONDS"] == str(
            DEFAULT_DPOP_PROOF_MAX_AGE_SECONDS
        )


def test_the_local_run_refuses_a_mode_the_template_does_not_allow() -> None:
    template = load_template(ROOT / "template.yaml")
    with pytest.raises(TemplateError, match="DpopMode"):
        Deployment(parameters={"DpopMode": "sometimes"}).resolver(template)
    with pytest.raises(TemplateError, match="no parameter"):
        Deployment(parameters={"NoSuchParameter": "x"}).resolver(template)
