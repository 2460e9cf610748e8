"""The security table's item keys: distinct identities never share an item."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.security_table import revoked_subject_key

SCHEMES = st.sampled_from(["jwt", "oauth"])
TEXT = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)


@given(
    a=st.tuples(SCHEMES, st.text(max_size=30), TEXT),
    b=st.tuples(SCHEMES, st.text(max_size=30), TEXT),
)
def test_subject_keys_are_injective(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    """(scheme, issuer, subject) -> key never maps two identities to one item, whatever `#`
    the issuer or the subject holds."""
    if a != b:
        assert revoked_subject_key(*a) != revoked_subject_key(*b)


def test_the_same_subject_of_two_schemes_is_two_callers() -> None:
    assert revoked_subject_key("jwt", "", "x") != revoked_subject_key("oauth", "", "x")
