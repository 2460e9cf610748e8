"""Reading the REQUEST authorizer event defensively.

We do not wrap the event in Powertools' `APIGatewayAuthorizerRequestEvent` here: its accessors
assume a well-typed event (a `headers` that is a list, a missing `requestContext`, a short
`methodArn` raise TypeError/IndexError), while the authorizer must turn any malformed input into
`Unauthorized`. Skipping it also saves about 0.1 s of cold-start import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from authorizer.errors import CredentialError
from shared.routes import IDENTITY_HEADER, Route, find_route

_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):execute-api:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<api_id>[A-Za-z0-9]+)/(?P<stage>[A-Za-z0-9_-]+)/(?P<method>[A-Z]+)(?P<path>/[^\s*?]*)"
)
#: Longest header value read at all: a token over 8 KiB is refused anyway, so a longer value
#: is refused before anything parses it.
MAX_HEADER_LENGTH = 8192 + len("Bearer ")


class MethodArn(NamedTuple):
    """The invoked method's ARN, split into what policies are built from. (A named tuple: it
    is built on every call, and builds and defines faster than a frozen dataclass.)"""

    partition: str
    region: str
    account: str
    api_id: str
    stage: str
    method: str
    path: str

    def resource(self, method: str, arn_path: str) -> str:
        """`arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`."""
        return (
            f"arn:{self.partition}:execute-api:{self.region}:{self.account}:"
            f"{self.api_id}/{self.stage}/{method}/{arn_path}"
        )


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """What the authorizer needs from the event: the route and its path parameters, the
    credential (the value of the route's identity source), audit fields."""

    arn: MethodArn
    route: Route
    path_params: Mapping[str, str]
    credential: str | None = field(repr=False)
    """The presented credential: kept out of `repr`, so that no log of the request shows it."""
    source_ip: str
    request_id: str
    http_method: str
    resource: str
    event: Mapping[str, Any] = field(repr=False, compare=False)
    """The event itself, for `header`; never logged (it carries the credential)."""

    def header(self, name: str) -> str | None:
        """The one value of another header (a credential scheme that needs a second header,
        such as a DPoP proof, RFC 9449 section 4.1); more than one value is refused."""
        return _single_header(self.event, name)


def parse_method_arn(value: object) -> MethodArn:
    if not isinstance(value, str) or len(value) > 2048:
        raise CredentialError("bad_method_arn")
    found = _ARN.fullmatch(value)
    if not found:
        raise CredentialError("bad_method_arn")
    return MethodArn._make(found.groups())  # the groups are in field order


def read_request(event: object) -> AuthRequest:
    """Parse the event; any malformation is the caller's fault (`CredentialError`)."""
    if not isinstance(event, Mapping):
        raise CredentialError("malformed_event")
    arn = parse_method_arn(event.get("methodArn"))
    found = find_route(arn.method, arn.path)
    if found is None:
        raise CredentialError("unknown_route")
    route, path_params = found
    context = _mapping(event.get("requestContext"))
    identity = _mapping(context.get("identity"))
    return AuthRequest(
        arn=arn,
        route=route,
        path_params=path_params,
        credential=_single_header(event, IDENTITY_HEADER[route.authorizer]),
        source_ip=_text(identity.get("sourceIp")),
        request_id=_text(context.get("requestId")),
        http_method=arn.method,
        resource=route.path,
        event=event,
    )


def _single_header(event: Mapping[str, Any], name: str) -> str | None:
    """The one value of header `name` (case-insensitive); more than one value is refused."""
    wanted = name.lower()
    values: list[object] = []
    headers = event.get("headers")
    if isinstance(headers, Mapping):
        values += [v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted]
    multi = event.get("multiValueHeaders")
    multi_values: list[object] = []
    if isinstance(multi, Mapping):
        for key, items in multi.items():
            if isinstance(key, str) and key.lower() == wanted:
                multi_values += items if isinstance(items, list) else [items]
    if len(multi_values) > 1 or len(values) > 1:
        raise CredentialError("multiple_credentials")
    if values and multi_values and values[0] != multi_values[0]:
        raise CredentialError("multiple_credentials")
    candidates = values or multi_values
    if not candidates or candidates[0] is None:
        return None
    value = candidates[0]
    if not isinstance(value, str):
        raise CredentialError("malformed")
    if len(value) > MAX_HEADER_LENGTH:
        raise CredentialError("oversized")
    return value


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value[:128] if isinstance(value, str) else ""
