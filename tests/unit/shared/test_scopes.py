from __future__ import annotations

import pytest

from shared import ADMIN, READ, TRIGGER, Grants, ScopeClaimError, is_valid_scope, parse_scope_claims


@pytest.mark.parametrize(
    ("scope", "scp", "expected"),
    [
        (None, None, ()),
        ("workflow:read", None, (READ,)),
        ("workflow:read  workflow:trigger", None, (READ, TRIGGER)),
        (None, ["workflow:admin"], (ADMIN,)),
        (None, "workflow:read workflow:read", (READ,)),
        ("workflow:read", ["workflow:trigger", "workflow:read"], (READ, TRIGGER)),
        ("", [], ()),
    ],
)
def test_parse_scope_claims(scope: object, scp: object, expected: tuple[str, ...]) -> None:
    assert parse_scope_claims(scope, scp) == expected


@pytest.mark.parametrize(
    ("scope", "scp"),
    [
        (["workflow:read"], None),
        (1, None),
        ({"a": 1}, None),
        (True, None),
        (None, 5),
        (None, ["workflow:read", 1]),
        (None, [["workflow:read"]]),
        (None, {"workflow:read": True}),
        (" ".join(f"s{i}" for i in range(100)), None),
    ],
)
def test_parse_scope_claims_refuses_wrong_types(scope: object, scp: object) -> None:
    with pytest.raises(ScopeClaimError):
        parse_scope_claims(scope, scp)


def test_admin_implies_read_and_trigger() -> None:
    grants = Grants.from_scopes([ADMIN])
    assert grants.allows(READ)
    assert grants.allows(TRIGGER)
    assert grants.allows(ADMIN)


def test_narrowed_scopes_grant_one_workflow() -> None:
    grants = Grants.from_scopes(["workflow:read:wf-1", "workflow:trigger:wf_2"])
    assert grants.allows(READ, "wf-1")
    assert not grants.allows(READ, "wf_2")
    assert not grants.allows(READ)
    assert grants.allows(TRIGGER, "wf_2")
    assert grants.workflows(READ) == {"wf-1"}


@pytest.mark.parametrize(
    "scope",
    [
        "workflow:admin:wf-1",
        "workflow:read:",
        "workflow:read:a/b",
        "workflow:read:" + "a" * 65,
        "workflow:read:*",
        "Workflow:read",
        "workflow:READ",
        "workflow:read:wf-1:extra",
        "workflow",
        "admin",
    ],
)
def test_bad_or_unknown_scopes_grant_nothing(scope: str) -> None:
    grants = Grants.from_scopes([scope])
    assert grants.actions == frozenset()
    assert grants.narrowed == {}


def test_unqualified_scope_absorbs_narrowed() -> None:
    grants = Grants.from_scopes([READ, "workflow:read:wf-1"])
    assert grants.workflows(READ) == frozenset()
    assert grants.allows(READ, "anything")


@pytest.mark.parametrize(
    ("scope", "valid"),
    [(READ, True), (ADMIN, True), ("workflow:trigger:x", True), ("workflow:admin:x", False),
     ("workflow:read:a b", False), ("nope", False)],
)  # fmt: skip
def test_is_valid_scope(scope: str, valid: bool) -> None:
    assert is_valid_scope(scope) is valid
