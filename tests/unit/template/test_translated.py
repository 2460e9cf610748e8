"""Facts of the CloudFormation that template.yaml becomes (translated offline by
aws-sam-translator): least-privilege IAM, the runtime, logging, gateway responses, alarms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import ROOT

Statement = dict[str, Any]

#: The API key secrets' name prefix: the parameter, or by default one of this stack's own.
API_KEY_PREFIX = {
    "Fn::If": [
        "HasApiKeySecretPrefix",
        {"Ref": "ApiKeySecretPrefix"},
        {"Fn::Sub": "${AWS::StackName}/api-keys/"},
    ]
}
SECRET_PREFIX_ARN = {
    "Fn::Sub": [
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Prefix}*",
        {"Prefix": API_KEY_PREFIX},
    ]
}
CLIENT_PREFIX = {
    "Fn::If": [
        "ClientPrefixIsStackDefault",
        {"Fn::Sub": "${AWS::StackName}/clients/"},
        {"Ref": "ClientSecretPrefix"},
    ]
}
CLIENT_PREFIX_ARN = {
    "Fn::Sub": [
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Prefix}*",
        {"Prefix": CLIENT_PREFIX},
    ]
}
#: ListSecrets has no resource type (AWS Service Authorization Reference): "*" is the only
#: resource it can be granted on. It lists names and metadata, never values.
UNSCOPABLE = {("ListClientsFunctionRole", "secretsmanager:ListSecrets")}
STATE_MACHINES = {
    "Fn::Sub": (
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
        ":stateMachine:${AWS::StackName}-*"
    )
}
EXECUTIONS = {
    "Fn::Sub": (
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
        ":execution:${AWS::StackName}-*:*"
    )
}

#: What each run function may do on Step Functions, and nothing else.
RUN_FUNCTION_ACTIONS = {
    "TriggerWorkflowFunction": {
        ("states:StartExecution", str(STATE_MACHINES)),
        ("states:DescribeExecution", str(EXECUTIONS)),
    },
    "StartRunFunction": {
        ("states:StartExecution", str(STATE_MACHINES)),
        ("states:DescribeExecution", str(EXECUTIONS)),
    },
    "ListRunsFunction": {("states:ListExecutions", str(STATE_MACHINES))},
    "GetRunFunction": {("states:DescribeExecution", str(EXECUTIONS))},
    "CancelRunFunction": {
        ("states:DescribeExecution", str(EXECUTIONS)),
        ("states:StopExecution", str(EXECUTIONS)),
    },
}
ECHO_FUNCTIONS = ("GetAutomateFunction", "GetSecureAutomateFunction", "GetInternalFunction")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(translated: dict[str, Any], role: str) -> Iterator[Statement]:
    for policy in translated["Resources"][role]["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def _grants(translated: dict[str, Any], role: str) -> set[tuple[str, str]]:
    return {
        (action, str(resource))
        for statement in _statements(translated, role)
        if statement["Effect"] == "Allow"
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    }


def _roles(translated: dict[str, Any]) -> list[str]:
    return [
        name
        for name, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    ]


def _lambda_functions(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


class TestIam:
    def test_authorizer_reads_only_its_own_secrets(self, translated: dict[str, Any]) -> None:
        table = str({"Fn::GetAtt": ["SecurityTable", "Arn"]})
        assert _grants(translated, "AuthorizerFunctionRole") == {
            ("secretsmanager:GetSecretValue", str({"Ref": "SigningSecret"})),
            ("secretsmanager:GetSecretValue", str(SECRET_PREFIX_ARN)),
            # The security table only: the snapshot's two index queries, counter writes and
            # seen-source puts, and the reads that replace the snapshot past its caps.
            ("dynamodb:Query", str({"Fn::Sub": "${SecurityTable.Arn}/index/RevocationsByKind"})),
            ("dynamodb:Query", str({"Fn::Sub": "${SecurityTable.Arn}/index/LockedSources"})),
            ("dynamodb:UpdateItem", table),
            ("dynamodb:PutItem", table),
            ("dynamodb:BatchGetItem", table),
            ("dynamodb:GetItem", table),
        }
        role = translated["Resources"]["AuthorizerFunctionRole"]["Properties"]
        assert role["ManagedPolicyArns"] == [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ]

    def test_no_role_has_wildcard_actions_on_every_resource(
        self, translated: dict[str, Any]
    ) -> None:
        for role in _roles(translated):
            for statement in _statements(translated, role):
                actions = _listed(statement.get("Action", []))
                resources = _listed(statement.get("Resource", []))
                assert not any("*" in action for action in actions), (role, statement)
                if {(role, action) for action in actions} <= UNSCOPABLE:
                    continue
                assert "*" not in resources, (role, statement)

    @pytest.mark.parametrize("function", sorted(RUN_FUNCTION_ACTIONS))
    def test_run_functions_get_only_the_step_functions_calls_they_make(
        self, translated: dict[str, Any], function: str
    ) -> None:
        assert _grants(translated, f"{function}Role") == RUN_FUNCTION_ACTIONS[function]

    @pytest.mark.parametrize("function", ECHO_FUNCTIONS)
    def test_echo_functions_have_no_permissions_beyond_logging(
        self, translated: dict[str, Any], function: str
    ) -> None:
        assert _grants(translated, f"{function}Role") == set()

    def test_rotation_function_rotates_only_our_secrets(self, translated: dict[str, Any]) -> None:
        actions = {
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
        }
        resources = {
            str({"Ref": "SigningSecret"}),
            str(SECRET_PREFIX_ARN),
            str(CLIENT_PREFIX_ARN),
        }
        assert _grants(translated, "RotateSecretFunctionRole") == {
            (action, resource) for action in actions for resource in resources
        }
        permission = translated["Resources"]["RotateSecretPermission"]["Properties"]
        assert permission["Principal"] == "secretsmanager.amazonaws.com"
        assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}

    @pytest.mark.parametrize(
        ("function", "actions", "invokes_rotation"),
        [
            ("CreateApiKeyFunction", {"CreateSecret", "RotateSecret", "DeleteSecret"}, True),
            ("RotateApiKeyFunction", {"DescribeSecret", "RotateSecret"}, True),
            (
                "RevokeApiKeyFunction",
                {"DescribeSecret", "GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage",
                 "CancelRotateSecret", "DeleteSecret"},
                False,
            ),
        ],
    )  # fmt: skip
    def test_admin_functions_get_exactly_the_calls_they_make_on_api_key_secrets(
        self, translated: dict[str, Any], function: str, actions: set[str], invokes_rotation: bool
    ) -> None:
        grants = _grants(translated, f"{function}Role")
        secret_grants = {(a, r) for a, r in grants if a.startswith("secretsmanager:")}
        assert secret_grants == {(f"secretsmanager:{a}", str(SECRET_PREFIX_ARN)) for a in actions}
        rotation_arn = {"Fn::GetAtt": ["RotateSecretFunction", "Arn"]}
        expected = {("lambda:InvokeFunction", str(rotation_arn))} if invokes_rotation else set()
        assert grants - secret_grants == expected
        env = _lambda_functions(translated)[function]["Environment"]["Variables"]
        assert ("ROTATION_FUNCTION_ARN" in env) is invokes_rotation

    def test_token_function_reads_the_key_and_clients_and_writes_only_the_table(
        self, translated: dict[str, Any]
    ) -> None:
        table = str({"Fn::GetAtt": ["SecurityTable", "Arn"]})
        assert _grants(translated, "IssueTokenFunctionRole") == {
            ("secretsmanager:GetSecretValue", str({"Ref": "SigningSecret"})),
            ("secretsmanager:GetSecretValue", str(CLIENT_PREFIX_ARN)),
            ("dynamodb:GetItem", table),
            ("dynamodb:UpdateItem", table),
            ("dynamodb:PutItem", table),
        }
        assert _grants(translated, "GetOAuthMetadataFunctionRole") == set()

    @pytest.mark.parametrize(
        ("function", "actions", "invokes_rotation"),
        [
            ("CreateClientFunction",
             {"CreateSecret", "TagResource", "RotateSecret", "DeleteSecret"}, True),
            ("ListClientsFunction", {"GetSecretValue"}, False),
            ("RotateClientFunction", {"DescribeSecret", "GetSecretValue", "RotateSecret"}, True),
            ("RevokeClientFunction",
             {"DescribeSecret", "GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage",
              "CancelRotateSecret", "DeleteSecret"}, False),
        ],
    )  # fmt: skip
    def test_client_admin_functions_get_exactly_their_calls_on_client_secrets(
        self, translated: dict[str, Any], function: str, actions: set[str], invokes_rotation: bool
    ) -> None:
        grants = _grants(translated, f"{function}Role")
        secret_grants = {(a, r) for a, r in grants if a.startswith("secretsmanager:") and r != "*"}
        assert secret_grants == {(f"secretsmanager:{a}", str(CLIENT_PREFIX_ARN)) for a in actions}
        rotation_arn = {"Fn::GetAtt": ["RotateSecretFunction", "Arn"]}
        expected = {("lambda:InvokeFunction", str(rotation_arn))} if invokes_rotation else set()
        if function == "ListClientsFunction":
            expected = {("secretsmanager:ListSecrets", "*")}
        assert grants - secret_grants == expected
        env = _lambda_functions(translated)[function]["Environment"]["Variables"]
        assert env["CLIENT_SECRET_PREFIX"] == CLIENT_PREFIX
        assert ("ROTATION_FUNCTION_ARN" in env) is invokes_rotation

    def test_no_other_role_may_read_the_signing_secret(self, translated: dict[str, Any]) -> None:
        """Key custody: identity policies grant the signing secret to the authorizer, the token
        function and the rotation function only, and the secret's resource policy denies every
        other principal (a Deny that no identity policy can override)."""
        signing = str({"Ref": "SigningSecret"})
        readers = {
            role
            for role in _roles(translated)
            if ("secretsmanager:GetSecretValue", signing) in _grants(translated, role)
        }
        assert readers == {
            "AuthorizerFunctionRole", "IssueTokenFunctionRole", "RotateSecretFunctionRole",
        }  # fmt: skip
        (policy,) = [
            r["Properties"]
            for r in translated["Resources"].values()
            if r["Type"] == "AWS::SecretsManager::ResourcePolicy"
        ]
        assert policy["SecretId"] == {"Ref": "SigningSecret"}
        assert policy["BlockPublicPolicy"] is True
        statement, writes = policy["ResourcePolicy"]["Statement"]
        # Writing a known key is as good as reading it: only rotation (and break-glass) may.
        assert writes["Effect"] == "Deny"
        assert writes["Principal"] == "*"
        assert set(writes["Action"]) == {
            "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
        }  # fmt: skip
        assert writes["Condition"]["StringNotEquals"]["aws:PrincipalArn"] == [
            {"Fn::GetAtt": ["RotateSecretFunctionRole", "Arn"]},
            {"Fn::If": ["HasBreakGlassRole", {"Ref": "BreakGlassRoleArn"},
                        {"Ref": "AWS::NoValue"}]},
        ]  # fmt: skip
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "secretsmanager:GetSecretValue"
        assert statement["Condition"] == {
            "StringNotEquals": {
                "aws:PrincipalArn": [
                    {"Fn::GetAtt": ["AuthorizerFunctionRole", "Arn"]},
                    {"Fn::GetAtt": ["IssueTokenFunctionRole", "Arn"]},
                    {"Fn::GetAtt": ["RotateSecretFunctionRole", "Arn"]},
                    {
                        "Fn::If": [
                            "HasBreakGlassRole",
                            {"Ref": "BreakGlassRoleArn"},
                            {"Ref": "AWS::NoValue"},
                        ]
                    },
                ]
            }
        }
        assert translated["Parameters"]["BreakGlassRoleArn"]["Default"] == ""


class TestFunctions:
    def test_every_function_runs_python313_on_arm64_with_the_layer(
        self, translated: dict[str, Any]
    ) -> None:
        functions = _lambda_functions(translated)
        assert len(functions) == 23  # 21, and the two edge functions (EnableWaf)
        for name, props in functions.items():
            assert props["Runtime"] == "python3.13", name
            assert props["Architectures"] == ["arm64"], name
            # The authorizer may add AWS's secrets extension (tests/unit/template/
            # test_secrets_extension.py); the shared layer comes first everywhere.
            assert len(props["Layers"]) == (2 if name == "AuthorizerFunction" else 1), name
            assert props["Layers"][0]["Ref"].startswith("SharedLayer"), name

    def test_every_function_logs_to_an_explicit_group_with_retention(
        self, translated: dict[str, Any]
    ) -> None:
        resources = translated["Resources"]
        for name, props in _lambda_functions(translated).items():
            group = props["LoggingConfig"]["LogGroup"]["Ref"]
            assert resources[group]["Type"] == "AWS::Logs::LogGroup", name
            assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}

    def test_authorizer_configuration(self, translated: dict[str, Any]) -> None:
        props = _lambda_functions(translated)["AuthorizerFunction"]
        env = props["Environment"]["Variables"]

        assert props["Handler"] == "authorizer.app.lambda_handler"
        assert "POWERTOOLS_LOGGER_LOG_EVENT" not in env
        assert env["POWERTOOLS_PARAMETERS_MAX_AGE"] == "60"
        assert env["JWT_SECRET_ID"] == {"Ref": "SigningSecret"}
        assert env["API_KEY_SECRET_PREFIX"] == API_KEY_PREFIX
        for name in ("JWT_ISSUER", "JWT_AUDIENCE", "OAUTH_ISSUER", "OAUTH_AUDIENCE"):
            assert name in env

    @pytest.mark.parametrize("function", sorted(RUN_FUNCTION_ACTIONS))
    def test_run_functions_know_the_sample_workflow(
        self, translated: dict[str, Any], function: str
    ) -> None:
        env = _lambda_functions(translated)[function]["Environment"]["Variables"]
        assert env["WORKFLOWS"] == {
            "Fn::Sub": '{"demo": "${DemoWorkflow}", "wait": "${WaitWorkflow}"}'
        }

    def test_token_service_configuration(self, translated: dict[str, Any]) -> None:
        """Issued tokens are always bound to an issuer and an audience the authorizer checks,
        and live TokenLifetimeSeconds (at most the authorizer's 3600 s)."""
        functions = _lambda_functions(translated)
        env = functions["IssueTokenFunction"]["Environment"]["Variables"]
        authorizer = functions["AuthorizerFunction"]["Environment"]["Variables"]
        for name in ("JWT_SECRET_ID", "JWT_ISSUER", "JWT_AUDIENCE"):
            assert env[name] == authorizer[name], name
        assert env["TOKEN_LIFETIME_SECONDS"] == {"Ref": "TokenLifetimeSeconds"}
        assert env["CLIENT_SECRET_PREFIX"] == CLIENT_PREFIX
        assert env["SECURITY_TABLE_NAME"] == {"Ref": "SecurityTable"}
        parameters = translated["Parameters"]
        for name in ("JwtIssuer", "JwtAudience"):
            assert parameters[name]["Default"], name
            assert parameters[name]["MinLength"] == 1, name
        assert parameters["TokenLifetimeSeconds"]["Default"] == 900
        assert parameters["TokenLifetimeSeconds"]["MaxValue"] == 3600
        assert parameters["ClientSecretGraceSeconds"]["Default"] == 86400

    def test_sample_workflow_is_the_definition_the_tests_run(
        self, template: dict[str, Any]
    ) -> None:
        machine = template["Resources"]["DemoWorkflow"]["Properties"]
        assert machine["DefinitionUri"] == "statemachines/demo.asl.json"
        assert machine["Type"] == "STANDARD"  # runs must be describable and stoppable
        assert (ROOT / machine["DefinitionUri"]).is_file()


class TestApi:
    def body(self, translated: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = translated["Resources"]["WorkflowApi"]["Properties"]["Body"]
        return body

    def stage(self, translated: dict[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = translated["Resources"]["WorkflowApiStage"]["Properties"]
        return props

    def test_authorizers_cache_by_their_identity_header(self, translated: dict[str, Any]) -> None:
        security = self.body(translated)["securityDefinitions"]
        sources = {
            name: definition["x-amazon-apigateway-authorizer"]["identitySource"]
            for name, definition in security.items()
        }
        assert sources == {
            "BearerAuthorizer": "method.request.header.Authorization",
            "ApiKeyAuthorizer": "method.request.header.X-Api-Key",
        }
        for definition in security.values():
            authorizer = definition["x-amazon-apigateway-authorizer"]
            assert authorizer["type"] == "request"
            assert authorizer["authorizerResultTtlInSeconds"] == 300

    def test_401_has_a_json_body_and_a_bearer_challenge(self, translated: dict[str, Any]) -> None:
        responses = self.body(translated)["x-amazon-apigateway-gateway-responses"]
        unauthorized = responses["UNAUTHORIZED"]

        assert unauthorized["statusCode"] == "401"
        challenge = unauthorized["responseParameters"]["gatewayresponse.header.WWW-Authenticate"]
        assert challenge.startswith("'Bearer ")
        assert "application/json" in unauthorized["responseTemplates"]
        assert responses["ACCESS_DENIED"]["statusCode"] == "403"
        assert "application/json" in responses["ACCESS_DENIED"]["responseTemplates"]

    def test_gateway_response_bodies_are_json(self, translated: dict[str, Any]) -> None:
        responses = self.body(translated)["x-amazon-apigateway-gateway-responses"]
        for name, response in responses.items():
            template = response["responseTemplates"]["application/json"]
            # API Gateway substitutes messageString with an already-quoted JSON string.
            body = json.loads(template.replace("$context.error.messageString", '"text"'))
            assert set(body) == {"error", "message"}, name

    def test_stage_throttles_and_logs_the_authorizer(self, translated: dict[str, Any]) -> None:
        stage = self.stage(translated)
        (setting,) = stage["MethodSettings"]
        assert setting["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
        assert setting["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
        log_format = stage["AccessLogSetting"]["Format"]
        assert set(json.loads(log_format)) >= {"principalId", "authorizerStatus", "status"}
        for variable in (
            "$context.authorizer.principalId",
            "$context.authorizer.latency",
            "$context.authorizer.status",
            "$context.requestId",
            "$context.status",
        ):
            assert variable in log_format

    def test_api_waits_for_the_account_logging_role(self, translated: dict[str, Any]) -> None:
        # Access logs fail to deploy until the account's API Gateway logging role is set.
        resources = translated["Resources"]
        assert resources["WorkflowApi"]["DependsOn"] in (
            "ApiGatewayAccountReady",
            ["ApiGatewayAccountReady"],
        )
        handle = resources["ApiGatewayAccountReady"]["Metadata"]["AccountSettings"]
        assert handle == {"Fn::If": ["ConfigureAccount", {"Ref": "ApiGatewayAccount"}, ""]}

    def test_api_url_is_an_output(self, translated: dict[str, Any]) -> None:
        url = translated["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
        assert url.startswith("https://${WorkflowApi}.execute-api.")
        assert url.endswith("/${StageName}")


class TestAlarms:
    def alarms(self, translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            name: resource["Properties"]
            for name, resource in translated["Resources"].items()
            # Metric-math alarms (anomaly detection) name no single metric.
            if resource["Type"] == "AWS::CloudWatch::Alarm"
            and "MetricName" in resource["Properties"]
        }

    def filters(self, translated: dict[str, Any]) -> dict[str, str]:
        """Metric name -> filter pattern, for filters on the authorizer's log group."""
        return {
            resource["Properties"]["MetricTransformations"][0]["MetricName"]: resource[
                "Properties"
            ]["FilterPattern"]
            for resource in translated["Resources"].values()
            if resource["Type"] == "AWS::Logs::MetricFilter"
            and resource["Properties"]["LogGroupName"] == {"Ref": "AuthorizerLogGroup"}
        }

    @pytest.mark.parametrize(
        ("metric", "pattern"),
        [
            ("AuthorizerUnauthorizedAnswers", '{ $.decision = "unauthorized" }'),
            ("AuthorizerErrors", '{ $.decision = "error" }'),
            ("StaleKeyUses", '{ $.reason = "stale_key" }'),
        ],
    )
    def test_authorizer_audit_lines_are_alarmed(
        self, translated: dict[str, Any], metric: str, pattern: str
    ) -> None:
        assert self.filters(translated)[metric] == pattern
        assert any(alarm["MetricName"] == metric for alarm in self.alarms(translated).values())

    def test_token_refusals_are_alarmed(self, translated: dict[str, Any]) -> None:
        resources = translated["Resources"]
        (found,) = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::Logs::MetricFilter"
            and r["Properties"]["LogGroupName"] == {"Ref": "IssueTokenLogGroup"}
        ]
        assert found["FilterPattern"] == (
            '{ $.message = "token request" && $.decision = "refused" }'
        )
        metric = found["MetricTransformations"][0]["MetricName"]
        (alarm,) = [a for a in self.alarms(translated).values() if a["MetricName"] == metric]
        assert alarm["Threshold"] == {"Ref": "TokenRefusalAlarmThreshold"}

    @pytest.mark.parametrize("metric", ["RotationFailed", "5XXError"])
    def test_rotation_failures_and_5xx_are_alarmed(
        self, translated: dict[str, Any], metric: str
    ) -> None:
        assert any(alarm["MetricName"] == metric for alarm in self.alarms(translated).values())

    def test_signing_secret_rotates_on_a_schedule(self, translated: dict[str, Any]) -> None:
        schedule = translated["Resources"]["SigningSecretRotation"]["Properties"]
        assert schedule["SecretId"] == {"Ref": "SigningSecret"}
        assert schedule["RotationLambdaARN"] == {"Fn::GetAtt": ["RotateSecretFunction", "Arn"]}
        assert schedule["RotationRules"]["ScheduleExpression"] == {
            "Fn::Sub": "rate(${SigningKeyRotationDays} days)"
        }
        assert translated["Parameters"]["SigningKeyRotationDays"]["Default"] == 30


def test_two_stacks_never_share_api_keys_by_default() -> None:
    """The default API key prefix is the stack's own: staging and production in one account
    neither accept nor administer each other's keys. An explicit prefix still wins."""
    from local.cfn import Resolver, load_template  # noqa: PLC0415

    template = load_template(ROOT / "template.yaml")
    readers = [
        name
        for name, resource in template["Resources"].items()
        if "API_KEY_SECRET_PREFIX"
        in (resource.get("Properties", {}).get("Environment", {}).get("Variables", {}))
    ]
    assert len(readers) >= 5  # the authorizer, rotation and the three admin functions

    def prefixes(**kwargs: Any) -> set[str]:
        resolver = Resolver(template, **kwargs)
        return {
            resolver.resolve(
                template["Resources"][name]["Properties"]["Environment"]["Variables"][
                    "API_KEY_SECRET_PREFIX"
                ]
            )
            for name in readers
        }

    assert prefixes(stack_name="wf-staging") == {"wf-staging/api-keys/"}
    assert prefixes(stack_name="wf-prod") == {"wf-prod/api-keys/"}
    assert prefixes(stack_name="wf-prod", parameters={"ApiKeySecretPrefix": "shared/keys/"}) == {
        "shared/keys/"
    }
