"""The local gateway's request pipeline, with stand-in functions (no sockets, no AWS)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from local.gateway.app import Gateway
from local.gateway.events import ApiIdentity, HttpRequest
from local.template import ApiSpec, AuthorizerSpec, GatewayResponseSpec, RouteSpec

IDENTITY = ApiIdentity("localapi01", "v1")
BASE = "arn:aws:execute-api:us-east-1:123456789012:localapi01/v1"


class Fake:
    """A function that records its events and answers with `answer(event)`."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any]) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event)


def allow(*resources: str, context: dict[str, Any] | None = None) -> Callable[..., Any]:
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "principalId": "svc",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": list(resources)}
                ],
            },
            "context": context or {"scheme": "jwt", "expires_at": 17, "admin": False},
        }

    return answer


def raises(message: str) -> Callable[..., Any]:
    def answer(event: dict[str, Any]) -> Any:
        raise Exception(message)

    return answer


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps({"path": event["path"]})}


def make(
    authorizer: Fake,
    handler: Fake | None = None,
    ttl: int = 300,
    responses: dict[str, GatewayResponseSpec] | None = None,
    clock: Callable[[], float] | None = None,
) -> Gateway:
    api = ApiSpec(
        stage="v1",
        routes=(
            RouteSpec("GET", "/api/automate", "Handler", "BearerAuthorizer"),
            RouteSpec(
                "GET", "/api/workflows/{workflowId}/runs/{runId}", "Handler", "BearerAuthorizer"
            ),
            RouteSpec("POST", "/api/workflows/{workflowId}/runs", "Handler", "BearerAuthorizer"),
            RouteSpec("GET", "/api/internal", "Handler", "ApiKeyAuthorizer"),
        ),
        authorizers={
            "BearerAuthorizer": AuthorizerSpec("BearerAuthorizer", "Auth", ("Authorization",), ttl),
            "ApiKeyAuthorizer": AuthorizerSpec("ApiKeyAuthorizer", "Auth", ("X-Api-Key",), ttl),
        },
        functions={},
        gateway_responses=responses or {},
    )
    functions = {"Auth": authorizer, "Handler": handler or Fake(echo)}
    if clock is None:
        return Gateway(api, IDENTITY, functions)
    return Gateway(api, IDENTITY, functions, clock=clock)


def get(
    path: str, token: str | None = "Bearer t", method: str = "GET", **headers: str
) -> HttpRequest:
    pairs = [(k.replace("_", "-"), v) for k, v in headers.items()]
    if token is not None:
        pairs.append(("Authorization", token))
    return HttpRequest(method, path, headers=pairs, request_id="req-1")


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_allowed_call_reaches_the_function_with_the_authorizer_context() -> None:
    handler = Fake(echo)
    gateway = make(Fake(allow(f"{BASE}/GET/api/workflows/*/runs/*")), handler)
    response = gateway.handle(get("/api/workflows/demo/runs/r1"))
    assert response.status == 200
    event = handler.events[0]
    assert event["pathParameters"] == {"workflowId": "demo", "runId": "r1"}
    assert event["resource"] == "/api/workflows/{workflowId}/runs/{runId}"
    authorizer = event["requestContext"]["authorizer"]
    # REST proxy events carry context values as strings.
    assert authorizer["principalId"] == "svc"
    assert authorizer["expires_at"] == "17"
    assert authorizer["admin"] == "false"
    assert event["requestContext"]["path"] == "/v1/api/workflows/demo/runs/r1"


def test_authorizer_event_has_the_concrete_method_arn_and_request_parts() -> None:
    authorizer = Fake(allow("*"))
    gateway = make(authorizer)
    gateway.handle(
        HttpRequest(
            "GET",
            "/api/workflows/demo/runs/r1",
            query=[("a", "1"), ("a", "2")],
            headers=[("Authorization", "Bearer t"), ("X-Trace", "x")],
            source_ip="127.0.0.9",
            request_id="req-9",
        )
    )
    event = authorizer.events[0]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == f"{BASE}/GET/api/workflows/demo/runs/r1"
    assert event["resource"] == "/api/workflows/{workflowId}/runs/{runId}"
    assert event["pathParameters"] == {"workflowId": "demo", "runId": "r1"}
    assert event["headers"]["Authorization"] == "Bearer t"
    assert event["multiValueHeaders"]["X-Trace"] == ["x"]
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.9"
    assert event["requestContext"]["requestId"] == "req-9"
    assert event["requestContext"]["stage"] == "v1"


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_identity_source_is_401_without_calling_the_authorizer(token: str | None) -> None:
    authorizer = Fake(allow("*"))
    response = make(authorizer).handle(get("/api/automate", token=token))
    assert response.status == 401
    assert body(response) == {"message": "Unauthorized"}
    assert authorizer.events == []


def test_api_key_routes_read_only_their_identity_source() -> None:
    authorizer = Fake(allow("*"))
    response = make(authorizer).handle(get("/api/internal", token="Bearer t"))
    assert response.status == 401
    assert authorizer.events == []
    response = make(authorizer).handle(get("/api/internal", token=None, X_Api_Key="k"))
    assert response.status == 200


def test_unauthorized_exception_is_401() -> None:
    response = make(Fake(raises("Unauthorized"))).handle(get("/api/automate"))
    assert response.status == 401
    assert dict(response.headers)["x-amzn-ErrorType"] == "UnauthorizedException"


@pytest.mark.parametrize("answer", [raises("Authorizer unavailable"), lambda e: {"no": "policy"}])
def test_other_authorizer_failures_are_500(answer: Callable[..., Any]) -> None:
    handler = Fake(echo)
    response = make(Fake(answer), handler).handle(get("/api/automate"))
    assert response.status == 500
    assert body(response) == {"message": None}
    assert handler.events == []


def test_policy_without_the_route_is_403() -> None:
    handler = Fake(echo)
    response = make(Fake(allow(f"{BASE}/GET/api/automate")), handler).handle(
        get("/api/workflows/demo/runs/r1")
    )
    assert response.status == 403
    assert body(response) == {"Message": "User is not authorized to access this resource"}
    assert handler.events == []


def test_explicit_deny_is_403_with_its_message() -> None:
    def deny(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "principalId": "svc",
            "policyDocument": {
                "Statement": [
                    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{BASE}/*"},
                    {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": f"{BASE}/*"},
                ]
            },
        }

    response = make(Fake(deny)).handle(get("/api/automate"))
    assert response.status == 403
    assert "explicit deny" in body(response)["Message"]


def test_cached_policy_is_reused_for_other_routes_and_evaluated_for_each() -> None:
    authorizer = Fake(allow(f"{BASE}/GET/api/automate", f"{BASE}/GET/api/workflows/*/runs/*"))
    gateway = make(authorizer)
    assert gateway.handle(get("/api/automate")).status == 200
    assert gateway.handle(get("/api/workflows/demo/runs/r1")).status == 200
    # Same identity, a route the cached policy does not cover: 403, still no new invocation.
    assert gateway.handle(get("/api/workflows/demo/runs", method="POST")).status == 403
    assert len(authorizer.events) == 1
    assert gateway.stats.as_json()["authorizer_invocations"] == 1
    assert gateway.stats.as_json()["cache_hits"] == 2
    # Another identity is another cache entry.
    gateway.handle(get("/api/automate", token="Bearer other"))
    assert len(authorizer.events) == 2


def test_cache_expires_after_the_ttl() -> None:
    now = [0.0]
    authorizer = Fake(allow("*"))
    gateway = make(authorizer, ttl=60, clock=lambda: now[0])
    gateway.handle(get("/api/automate"))
    now[0] = 59.0
    gateway.handle(get("/api/automate"))
    now[0] = 60.0
    gateway.handle(get("/api/automate"))
    assert len(authorizer.events) == 2


def test_zero_ttl_invokes_the_authorizer_every_time() -> None:
    authorizer = Fake(allow("*"))
    gateway = make(authorizer, ttl=0)
    gateway.handle(get("/api/automate"))
    gateway.handle(get("/api/automate"))
    assert len(authorizer.events) == 2


def test_failures_are_not_cached() -> None:
    calls = []

    def flaky(event: dict[str, Any]) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise Exception("Unauthorized")
        return allow("*")(event)

    gateway = make(Fake(flaky))
    assert gateway.handle(get("/api/automate")).status == 401
    assert gateway.handle(get("/api/automate")).status == 200


def test_unknown_route_or_method_is_missing_authentication_token() -> None:
    authorizer = Fake(allow("*"))
    gateway = make(authorizer)
    for request in (get("/api/nope"), get("/api/automate", method="DELETE")):
        response = gateway.handle(request)
        assert response.status == 403
        assert body(response) == {"message": "Missing Authentication Token"}
    assert authorizer.events == []


def test_template_gateway_responses_shape_401_bodies_and_headers() -> None:
    responses = {
        "UNAUTHORIZED": GatewayResponseSpec(
            401,
            {"WWW-Authenticate": "Bearer"},
            {
                "application/json": (
                    '{"error": $context.error.messageString, "id": "$context.requestId"}'
                )
            },
        ),
        "DEFAULT_4XX": GatewayResponseSpec(
            None, {}, {"application/json": '{"e": "$context.error.responseType"}'}
        ),
    }
    gateway = make(Fake(allow(f"{BASE}/GET/api/automate")), responses=responses)
    response = gateway.handle(get("/api/automate", token=None))
    assert response.status == 401
    assert body(response) == {"error": "Unauthorized", "id": "req-1"}
    assert ("WWW-Authenticate", "Bearer") in response.headers
    denied = gateway.handle(get("/api/workflows/demo/runs/r1"))
    assert denied.status == 403
    assert body(denied) == {"e": "ACCESS_DENIED"}


def test_function_response_mapping_multi_value_headers_and_base64() -> None:
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "statusCode": 202,
            "headers": {"Location": "/x"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }

    response = make(Fake(allow("*")), Fake(answer)).handle(get("/api/automate"))
    assert response.status == 202
    assert response.body == b"\x00\x01"
    assert ("Set-Cookie", "a=1") in response.headers
    assert ("Set-Cookie", "b=2") in response.headers
    assert ("Location", "/x") in response.headers


@pytest.mark.parametrize(
    "answer",
    [
        raises("boom"),
        lambda e: {"statusCode": "nope"},
        lambda e: "text",
        lambda e: {"body": 1},
        lambda e: {"body": "no status code"},
    ],
)
def test_failing_or_malformed_function_is_502(answer: Callable[..., Any]) -> None:
    response = make(Fake(allow("*")), Fake(answer)).handle(get("/api/automate"))
    assert response.status == 502
    assert body(response) == {"message": "Internal server error"}
