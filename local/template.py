"""The API as `template.yaml` declares it: routes, authorizers, functions, Gateway Responses.

Read from the SAM shape (an `AWS::Serverless::Api` with `Auth.Authorizers` and
`GatewayResponses`, functions with `Api` events), not from the route table, so the local gateway
serves what would be deployed; a test compares the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import Resolver, TemplateError

SERVERLESS_API = "AWS::Serverless::Api"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
#: API Gateway's default authorizer result TTL when `ReauthorizeEvery` is not given.
DEFAULT_TTL_SECONDS = 300
#: Where function modules are imported from: the repository root (on `sys.path`).
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A Lambda function: the Python module and attribute serving it, and its environment."""

    logical_id: str
    module: str
    attribute: str
    environment: Mapping[str, str]
    timeout: int = 3


@dataclass(frozen=True, slots=True)
class AuthorizerSpec:
    """A REQUEST authorizer: its function, identity source headers and result cache TTL."""

    name: str
    function: str
    """Logical id of the authorizer's function."""
    identity_headers: tuple[str, ...]
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class RouteSpec:
    method: str
    path: str
    function: str
    """Logical id of the function serving the route."""
    authorizer: str | None


@dataclass(frozen=True, slots=True)
class GatewayResponseSpec:
    status: int | None
    headers: Mapping[str, str]
    templates: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ApiSpec:
    stage: str
    routes: tuple[RouteSpec, ...]
    authorizers: Mapping[str, AuthorizerSpec]
    functions: Mapping[str, FunctionSpec]
    gateway_responses: Mapping[str, GatewayResponseSpec] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()


def read_api(
    template: Mapping[str, Any], resolver: Resolver, template_dir: Path, root: Path = REPO_ROOT
) -> ApiSpec:
    """The one REST API of the template, with everything the local gateway needs."""
    resources: Mapping[str, Any] = template["Resources"]
    apis = [name for name, res in resources.items() if res.get("Type") == SERVERLESS_API]
    if len(apis) != 1:
        raise TemplateError(f"expected exactly one {SERVERLESS_API}, found {len(apis)}")
    api_id = apis[0]
    api = resources[api_id].get("Properties") or {}
    if "DefinitionBody" in api or "DefinitionUri" in api:
        raise TemplateError("an OpenAPI DefinitionBody is not supported by the local gateway")
    auth = api.get("Auth") or {}
    default_authorizer = auth.get("DefaultAuthorizer")
    globals_fn = (template.get("Globals") or {}).get("Function") or {}

    functions: dict[str, FunctionSpec] = {}
    routes: list[RouteSpec] = []
    for logical_id, res in resources.items():
        if res.get("Type") != SERVERLESS_FUNCTION:
            continue
        if "Condition" in res and not resolver.condition(str(res["Condition"])):
            continue  # not deployed with these parameters (EnableWaf=false: the edge functions)
        props = res.get("Properties") or {}
        functions[logical_id] = _function(
            logical_id, props, globals_fn, resolver, template_dir, root
        )
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            event_props = event.get("Properties") or {}
            rest_api = event_props.get("RestApiId")
            if rest_api is not None and rest_api != {"Ref": api_id}:
                continue
            authorizer = (event_props.get("Auth") or {}).get("Authorizer", default_authorizer)
            routes.append(
                RouteSpec(
                    method=str(event_props["Method"]).upper(),
                    path=str(event_props["Path"]),
                    function=logical_id,
                    authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                )
            )

    authorizers = {
        name: _authorizer(name, spec, resolver)
        for name, spec in (auth.get("Authorizers") or {}).items()
    }
    for route in routes:
        if route.authorizer is not None and route.authorizer not in authorizers:
            raise TemplateError(f"{route.method} {route.path} uses unknown {route.authorizer}")
    responses = {
        kind: _gateway_response(spec, resolver)
        for kind, spec in (api.get("GatewayResponses") or {}).items()
    }
    return ApiSpec(
        stage=str(resolver.resolve(api.get("StageName", "Prod"))),
        routes=tuple(routes),
        authorizers=authorizers,
        functions=functions,
        gateway_responses=responses,
        binary_media_types=tuple(
            str(item).replace("~1", "/")
            for item in resolver.resolve(api.get("BinaryMediaTypes")) or ()
        ),
    )


def _function(
    logical_id: str,
    props: Mapping[str, Any],
    globals_fn: Mapping[str, Any],
    resolver: Resolver,
    template_dir: Path,
    root: Path,
) -> FunctionSpec:
    code_uri = str(props.get("CodeUri", globals_fn.get("CodeUri", ".")))
    handler = str(props.get("Handler", globals_fn.get("Handler", "")))
    module, _, attribute = handler.rpartition(".")
    if not module or not attribute:
        raise TemplateError(f"{logical_id}: Handler {handler!r} is not <module>.<function>")
    # SAM reads CodeUri relative to the template; Python imports relative to the repository.
    folder = (template_dir / code_uri).resolve()
    if not folder.is_dir():
        raise TemplateError(f"{logical_id}: CodeUri {code_uri} is not a folder")
    try:
        parts = folder.relative_to(root.resolve()).parts
    except ValueError:
        raise TemplateError(f"{logical_id}: CodeUri must be inside the repository") from None
    dotted = _module_name(logical_id, root, parts, module)
    env: dict[str, str] = {}
    for source in (globals_fn, props):
        variables = (source.get("Environment") or {}).get("Variables") or {}
        for name, value in variables.items():
            resolved = resolver.resolve(value)
            env[name] = resolved if isinstance(resolved, str) else str(resolved)
    timeout = int(resolver.resolve(props.get("Timeout", globals_fn.get("Timeout", 3))))
    return FunctionSpec(logical_id, dotted, attribute, env, timeout)


def _module_name(logical_id: str, root: Path, code_parts: tuple[str, ...], module: str) -> str:
    """The importable name of a handler module, as Lambda would find it after `sam build`.

    `Handler: app.lambda_handler` with `CodeUri: functions/x/` is `functions.x.app`; a handler
    that names its package (`authorizer.app.lambda_handler`, packaged one level down) is
    importable as written from the repository root.
    """
    relative = module.replace("/", ".")
    inside = ".".join([*code_parts, relative])
    for candidate in (inside, relative):
        path = root.joinpath(*candidate.split("."))
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return candidate
    raise TemplateError(f"{logical_id}: handler module {module!r} not found under its CodeUri")


def _authorizer(name: str, spec: Mapping[str, Any], resolver: Resolver) -> AuthorizerSpec:
    if spec.get("FunctionPayloadType", "TOKEN") != "REQUEST":
        raise TemplateError(f"{name}: only REQUEST authorizers are supported locally")
    arn = spec.get("FunctionArn")
    if not (isinstance(arn, dict) and "Fn::GetAtt" in arn):
        raise TemplateError(f"{name}: FunctionArn must be !GetAtt <Function>.Arn")
    identity = spec.get("Identity") or {}
    if identity.get("QueryStrings") or identity.get("StageVariables") or identity.get("Context"):
        raise TemplateError(f"{name}: only header identity sources are supported locally")
    # Both may be conditional on a parameter (the DPoP mode): resolved for this deployment's
    # values, as the AWS::LanguageExtensions transform does before SAM's.
    ttl = resolver.resolve(identity.get("ReauthorizeEvery", DEFAULT_TTL_SECONDS))
    headers = resolver.resolve(identity.get("Headers") or [])
    if not isinstance(headers, list) or not all(isinstance(h, str) and h for h in headers):
        raise TemplateError(f"{name}: Identity.Headers must be a list of header names")
    return AuthorizerSpec(
        name=name,
        function=str(arn["Fn::GetAtt"][0]),
        identity_headers=tuple(headers),
        ttl_seconds=int(ttl),
    )


def _gateway_response(spec: Mapping[str, Any], resolver: Resolver) -> GatewayResponseSpec:
    params = spec.get("ResponseParameters") or {}
    headers = {
        str(name): _static_value(str(resolver.resolve(value)))
        for name, value in (params.get("Headers") or {}).items()
    }
    status = spec.get("StatusCode")
    return GatewayResponseSpec(
        status=int(resolver.resolve(status)) if status is not None else None,
        headers=headers,
        templates={
            str(k): str(v)
            for k, v in (resolver.resolve(spec.get("ResponseTemplates")) or {}).items()
        },
    )


def _static_value(value: str) -> str:
    """Gateway Response header values are quoted static strings: `'Bearer'` means Bearer."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value
