from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_no_token_is_refused_for_its_number_of_scopes() -> None:
    """The token's 8 KiB cap bounds its scopes; a service entitled to 150 workflows is served."""
    many = " ".join(f"workflow:read:wf-{i}" for i in range(150))
    assert len(parse_scope_claims(many)) == 150


@pytest.mark.parametrize(
    "claim",
    [
        "workflow:read\u3000workflow:admin",  # ideographic space
        "workflow:read\u00a0workflow:admin",  # no-break space
        "workflow:read\tworkflow:admin",
        "workflow:read\nworkflow:admin",
        "workflow:read\rworkflow:admin",
        "workflow:read\x0bworkflow:admin",
        "workflow:read\u2028workflow:admin",
        'workflow:read "workflow:admin"',
        "workflow:read\\ workflow:admin",
        "workflow:réad",
    ],
)
@pytest.mark.parametrize("where", ["scope", "scp", "scp-list"])
def test_a_claim_outside_the_scope_grammar_is_malformed(claim: str, where: str) -> None:
    """RFC 6749 section 3.3: tokens of printable ASCII, separated by U+0020 only. Any other
    character makes the claim malformed; it is never split some other way."""
    args: dict[str, object] = {
        "scope": {"scope": claim},
        "scp": {"scp": claim},
        "scp-list": {"scp": ["workflow:read", claim]},
    }[where]
    with pytest.raises(ScopeClaimError):
        parse_scope_claims(**args)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")))
@given(st.text(max_size=200))
def test_never_more_scopes_than_space_separated_ascii_tokens(claim: str) -> None:
    try:
        parsed = parse_scope_claims(claim)
    except ScopeClaimError:
        return
    ascii_tokens = [t for t in claim.split(" ") if t and t.isascii() and t.isprintable()]
    assert len(parsed) <= len(ascii_tokens)
    assert all(token in ascii_tokens for token in parsed)
    assert ADMIN not in parsed or ADMIN in ascii_tokens
