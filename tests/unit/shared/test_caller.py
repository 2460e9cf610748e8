from __future__ import annotations

import pytest

from shared import READ
from shared.caller import Caller, MissingCallerError


def test_caller_from_authorizer_context() -> None:
    caller = Caller.from_authorizer_context(
        {
            "principalId": "svc",
            "principal": "svc",
            "scheme": "jwt",
            "scopes": "workflow:read:a",
            "expires_at": "4102444800",
        }
    )
    assert caller.principal == "svc"
    assert caller.scopes == ("workflow:read:a",)
    assert caller.grants.allows(READ, "a")
    assert not caller.grants.allows(READ, "b")
    assert caller.as_claims() == {
        "principal": "svc",
        "scheme": "jwt",
        "scopes": ["workflow:read:a"],
    }


@pytest.mark.parametrize("ctx", [None, {}, {"principalId": "x"}, {"scheme": "jwt"}])
def test_missing_context_is_refused(ctx: dict[str, str] | None) -> None:
    with pytest.raises(MissingCallerError):
        Caller.from_authorizer_context(ctx)


@pytest.mark.parametrize("scheme", ["jwt", "oauth"])
@pytest.mark.parametrize("expires_at", [None, "", "soon", "nan", "inf", True, [1]])
def test_a_token_caller_must_say_when_it_expires(scheme: str, expires_at: object) -> None:
    """The authorizer always writes `expires_at` for tokens: without a usable one, the context
    was not the authorizer's, and a token nobody can check is refused."""
    context: dict[str, object] = {"principal": "svc", "scheme": scheme, "scopes": "workflow:read"}
    if expires_at is not None:
        context["expires_at"] = expires_at
    with pytest.raises(MissingCallerError):
        Caller.from_authorizer_context(context)


def test_an_api_key_caller_does_not_expire() -> None:
    caller = Caller.from_authorizer_context({"principal": "batch", "scheme": "api_key"})
    assert caller.expires_at is None
    assert not caller.expired(now=10**12, skew_seconds=0)


@pytest.mark.parametrize(
    ("now", "expired"), [(1000.0, False), (1060.0, False), (1060.5, True), (5000.0, True)]
)
def test_expiry_allows_the_authorizers_skew(now: float, expired: bool) -> None:
    caller = Caller.from_authorizer_context(
        {"principal": "svc", "scheme": "jwt", "scopes": "", "expires_at": 1000}
    )
    assert caller.expired(now, skew_seconds=60) is expired


@pytest.mark.parametrize("scopes", ["workflow:read\u3000workflow:admin", "a\tb", "a\nb", "é"])
def test_scopes_outside_the_grammar_are_not_the_authorizers(scopes: str) -> None:
    with pytest.raises(MissingCallerError):
        Caller.from_authorizer_context({"principal": "svc", "scheme": "api_key", "scopes": scopes})
