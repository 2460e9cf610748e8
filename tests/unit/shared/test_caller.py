from __future__ import annotations

import pytest

from shared import READ
from shared.caller import Caller, MissingCallerError


def test_caller_from_authorizer_context() -> None:
    caller = Caller.from_authorizer_context(
        {"principalId": "svc", "principal": "svc", "scheme": "jwt", "scopes": "workflow:read:a"}
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
