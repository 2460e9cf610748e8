"""Property: whatever the input, the only outcomes are `Unauthorized`, the correct policy for a
truly valid credential, or the dependency error. Never a crash of another kind, never an allow
for anything else."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from authorizer.authorize import Authorizer
from tests.helpers import authorizer_event

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROUTES = [
    ("GET", "/api/automate"), ("GET", "/api/secure-automate"), ("POST", "/api/trigger"),
    ("GET", "/api/internal"), ("GET", "/api/workflows/wf-1/runs/r-1"),
    ("DELETE", "/api/admin/api-keys/abc"),
]  # fmt: skip


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
header_objects = st.fixed_dictionaries(
    {"alg": st.sampled_from(["HS256", "RS256", "ES256", "EdDSA", "none", "HS512", "PS256", ""])},
    optional={
        "kid": st.sampled_from(["k1", "kid-rs256", "kid-es256", "unknown"]) | st.text(max_size=10),
        "typ": st.sampled_from(["JWT", "at+jwt", "jwe"]),
        "crit": st.lists(st.text(max_size=5), max_size=2),
        "jku": st.just("http://127.0.0.1:1/keys"),
    },
)
claim_objects = st.dictionaries(
    st.sampled_from(["sub", "iss", "aud", "exp", "iat", "nbf", "scope", "scp", "client_id", "jti"]),
    json_values,
    max_size=8,
)
token_shaped = st.builds(
    lambda h, c, sig: f"{b64(json.dumps(h).encode())}.{b64(json.dumps(c).encode())}.{b64(sig)}",
    header_objects,
    claim_objects,
    st.binary(max_size=80),
)
header_values = (
    st.text(max_size=300)
    | token_shaped.map(lambda t: f"Bearer {t}")
    | st.from_regex(r"wfk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}", fullmatch=True)
    | st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", max_size=400
    )
)


def outcome(authz: Authorizer, event: dict[str, Any]) -> str | dict[str, Any]:
    try:
        return authz.handle(event)
    except RuntimeError as error:
        assert str(error) == "Authorizer unavailable"
        return "error"
    except Exception as error:
        assert type(error) is Exception
        assert str(error) == "Unauthorized"
        return "unauthorized"


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    value=header_values,
    name=st.sampled_from(["Authorization", "X-Api-Key", "authorization", "x-api-key"]),
)
def test_arbitrary_header_values_never_allow(
    authz: Authorizer, route: tuple[str, str], value: str, name: str
) -> None:
    result = outcome(authz, authorizer_event(*route, {name: value}))
    assert result in ("unauthorized", "error")


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    headers=st.dictionaries(st.text(max_size=15), st.text(max_size=50) | st.none(), max_size=4),
    multi=st.dictionaries(
        st.text(max_size=15), st.lists(st.text(max_size=20), max_size=3), max_size=3
    ),
    junk=st.dictionaries(
        st.sampled_from(["requestContext", "methodArn", "headers"]), json_values, max_size=2
    ),
)
def test_arbitrary_event_shapes(
    authz: Authorizer, route: tuple[str, str], headers: dict[str, Any],
    multi: dict[str, list[str]], junk: dict[str, Any],
) -> None:  # fmt: skip
    event = authorizer_event(*route, multi=multi)
    event["headers"] = headers
    event.update(junk)
    assert outcome(authz, event) in ("unauthorized", "error")


@FUZZ
@given(
    position=st.integers(min_value=0),
    replacement=st.characters(min_codepoint=33, max_codepoint=126),
)
@example(position=0, replacement="e")
def test_one_character_changed_in_a_valid_token(
    authz: Authorizer, service_token: Callable[..., str], position: int, replacement: str
) -> None:
    token = service_token()
    index = position % len(token)
    mutated = token[:index] + replacement + token[index + 1 :]
    result = outcome(
        authz, authorizer_event("GET", "/api/automate", {"Authorization": f"Bearer {mutated}"})
    )
    if mutated == token:
        assert isinstance(result, dict)
        assert result["principalId"] == "svc-payments"
    elif isinstance(result, dict):
        # base64url's last character can carry unused bits: a change there may decode to the
        # very same bytes. Only then may the token still pass, with the same identity.
        assert _same_bytes(mutated, token)
        assert result["principalId"] == "svc-payments"
    else:
        assert result == "unauthorized"


def _same_bytes(a: str, b: str) -> bool:
    def decode(segment: str) -> bytes:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))

    try:
        return all(decode(x) == decode(y) for x, y in zip(a.split("."), b.split("."), strict=True))
    except ValueError:
        return False


@pytest.mark.parametrize("size", [8193, 100_000, 1_000_000])
def test_huge_headers(authz: Authorizer, size: int) -> None:
    for name in ("Authorization", "X-Api-Key"):
        for method, path in ROUTES:
            assert (
                outcome(authz, authorizer_event(method, path, {name: "Bearer " + "a" * size}))
                == "unauthorized"
            )
