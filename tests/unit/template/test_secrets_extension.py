"""The template's Parameters and Secrets Extension: on the authorizer only, for the arm64 the
functions run on, with its cache off so that no revocation or rotation bound changes."""

from __future__ import annotations

import re
from typing import Any

from authorizer.secrets_extension import PORT_VARIABLE, TTL_VARIABLE, client_from_environment

LAYER = re.compile(
    r"^arn:aws:lambda:(?P<region>[a-z0-9-]+):\d{12}:layer:"
    r"AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$"
)


def _functions(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def test_the_mapping_lists_arm64_builds_of_the_extension_per_region(
    template: dict[str, Any],
) -> None:
    mapping = template["Mappings"]["SecretsExtensionLayer"]
    assert len(mapping) >= 20
    for region, entry in mapping.items():
        found = LAYER.match(entry["Arn"])
        assert found, region
        assert found["region"] == region


def test_only_the_authorizer_gets_the_layer_and_only_when_it_is_on(
    translated: dict[str, Any],
) -> None:
    for name, props in _functions(translated).items():
        extra = props["Layers"][1:]
        if name != "AuthorizerFunction":
            assert extra == [], name
            assert PORT_VARIABLE not in props.get("Environment", {}).get("Variables", {}), name
            continue
        assert extra == [
            {
                "Fn::If": [
                    "UseSecretsExtension",
                    {"Fn::FindInMap": ["SecretsExtensionLayer", {"Ref": "AWS::Region"}, "Arn"]},
                    {"Ref": "AWS::NoValue"},
                ]
            }
        ]
    assert translated["Conditions"]["UseSecretsExtension"] == {
        "Fn::Equals": [{"Ref": "SecretsExtension"}, "on"]
    }
    assert translated["Parameters"]["SecretsExtension"]["Default"] == "on"


def test_the_extension_runs_with_its_cache_off_so_the_bounds_stand(
    translated: dict[str, Any],
) -> None:
    """With `SECRETS_MANAGER_TTL` at 0 every read reaches Secrets Manager: the authorizer's
    own per-version cache (`POWERTOOLS_PARAMETERS_MAX_AGE`) is the only secret cache, so the
    API key revocation bound stays `ReauthorizeEvery` + that age, and a forced re-read after
    a rotation sees the new version. With any other value the authorizer would not use it."""
    env = _functions(translated)["AuthorizerFunction"]["Environment"]["Variables"]
    assert env[TTL_VARIABLE] == "0"
    assert env[PORT_VARIABLE] == {
        "Fn::If": ["UseSecretsExtension", "2773", {"Ref": "AWS::NoValue"}]
    }
    # Its call to Secrets Manager gives up before the authorizer stops waiting for it (4 s).
    assert int(env["SECRETS_MANAGER_TIMEOUT_MILLIS"]) < 4000
    deployed = {PORT_VARIABLE: "2773", TTL_VARIABLE: env[TTL_VARIABLE]}
    assert client_from_environment(deployed, timeout=4) is not None
    assert client_from_environment({**deployed, TTL_VARIABLE: "300"}, timeout=4) is None
