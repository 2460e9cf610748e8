"""The events API Gateway (REST, Lambda proxy) hands to Lambda, and the mapping of the answer.

Shapes follow the REQUEST authorizer input and the proxy integration input documented by AWS
(and `sam local generate-event`): single-value maps hold the last value of a repeated header or
query parameter, multi-value maps hold all of them, and absent maps are `null` in proxy events.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ApiIdentity:
    """Where the local API pretends to live: the parts of every execute-api ARN."""

    api_id: str
    stage: str
    region: str = "us-east-1"
    account: str = "123456789012"

    def method_arn(self, method: str, path: str) -> str:
        """`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<concrete path>`."""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}/"
            f"{method}{path}"
        )


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    query: Sequence[tuple[str, str]] = ()
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    request_id: str = "local-request"
    time_epoch_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes


class MalformedProxyResponseError(ValueError):
    """The function's answer is not a valid proxy response (API Gateway answers 502)."""


def _last(values: list[str]) -> str | None:
    return values[-1] if values else None


def _single(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)  # the last value wins, as in API Gateway's single-value maps


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _request_context(
    request: HttpRequest, api: ApiIdentity, resource: str, user_agent: str | None
) -> dict[str, Any]:
    when = datetime.fromtimestamp(request.time_epoch_ms / 1000, UTC)
    return {
        "resourceId": "local",
        "resourcePath": resource,
        "httpMethod": request.method,
        "extendedRequestId": request.request_id,
        "requestTime": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{api.stage}{request.path}",
        "accountId": api.account,
        "protocol": "HTTP/1.1",
        "stage": api.stage,
        "domainPrefix": "localhost",
        "requestTimeEpoch": request.time_epoch_ms,
        "requestId": request.request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": request.source_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": user_agent,
            "user": None,
        },
        "domainName": "localhost",
        "apiId": api.api_id,
    }


def authorizer_event(
    request: HttpRequest, api: ApiIdentity, resource: str, path_parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The REQUEST authorizer input: the concrete path in `methodArn`, the stage in the ARN."""
    user_agent = _last(request.header_values("User-Agent"))
    return {
        "type": "REQUEST",
        "methodArn": api.method_arn(request.method, request.path),
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": _single(request.headers),
        "multiValueHeaders": _multi(request.headers),
        "queryStringParameters": _single(request.query),
        "multiValueQueryStringParameters": _multi(request.query),
        "pathParameters": dict(path_parameters),
        "stageVariables": {},
        "requestContext": _request_context(request, api, resource, user_agent),
    }


def proxy_event(
    request: HttpRequest,
    api: ApiIdentity,
    resource: str,
    path_parameters: Mapping[str, str],
    authorizer: Mapping[str, Any] | None,
    binary: bool,
) -> dict[str, Any]:
    """The Lambda proxy integration input, with `requestContext.authorizer` when authorized."""
    user_agent = _last(request.header_values("User-Agent"))
    context = _request_context(request, api, resource, user_agent)
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    if binary:
        body: str | None = base64.b64encode(request.body).decode("ascii")
    else:
        body = request.body.decode("utf-8", "replace") if request.body else None
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": _single(request.headers) or None,
        "multiValueHeaders": _multi(request.headers) or None,
        "queryStringParameters": _single(request.query) or None,
        "multiValueQueryStringParameters": _multi(request.query) or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": binary and bool(request.body),
    }


def authorizer_context(
    principal_id: str, context: Mapping[str, str | int | float | bool], latency_ms: int
) -> dict[str, Any]:
    """`requestContext.authorizer` of a REST proxy event: values arrive as strings."""
    values: dict[str, Any] = {key: _as_string(value) for key, value in context.items()}
    values["principalId"] = principal_id
    values["integrationLatency"] = latency_ms
    return values


def _as_string(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def map_proxy_response(result: object) -> HttpResponse:
    """The HTTP answer for a proxy response: status, headers, multi-value headers, body."""
    if not isinstance(result, Mapping):
        raise MalformedProxyResponseError("response is not an object")
    allowed = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
    if set(result) - allowed:
        raise MalformedProxyResponseError("unexpected keys in the response")
    # REST proxy output requires statusCode (the HTTP API format's defaults do not apply).
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponseError("statusCode must be an HTTP status")
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping):
        raise MalformedProxyResponseError("headers must be objects")
    # API Gateway merges both maps; a name in both gets the values of both.
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResponseError("multiValueHeaders values must be lists")
        headers += [(str(name), _header_text(v)) for v in values]
    headers += [(str(name), _header_text(value)) for name, value in single.items()]
    body = result.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise MalformedProxyResponseError("body must be a string")
    elif result.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedProxyResponseError("body is not valid base64") from None
    else:
        raw = body.encode("utf-8")
    return HttpResponse(status, headers, raw)


def _header_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResponseError("header values must be strings or numbers")


def json_body(value: object) -> bytes:
    return json.dumps(value).encode("utf-8")
