"""No input, however malformed, makes the token endpoint answer 500 or issue a token: random
bodies, content types and `Authorization` values (hypothesis), against moto."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.clients.support import Env, invoke, register, token_event

FIELDS = st.sampled_from(["grant_type", "scope", "client_id", "client_assertion_type", "x"])
#: The credential fields get random text only: the leak guard registers every value presented
#: there as a secret, and a common word (`client_credentials`) would then be a false leak.
CREDENTIAL_FIELDS = st.sampled_from(["client_secret", "client_assertion"])
VALUES = st.one_of(
    st.just("client_credentials"),
    st.just("svc-1"),
    st.text(max_size=40),
    st.text(alphabet="%=&+ .:\t\u00a0\u3000", max_size=10),
)
PAIRS = st.one_of(
    st.tuples(FIELDS, VALUES),
    st.tuples(CREDENTIAL_FIELDS, st.text(alphabet="abcdefXYZ0123456789-_%", max_size=50)),
)
BODIES = st.one_of(
    st.lists(PAIRS, max_size=6).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)),
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
)
AUTHORIZATIONS = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    st.tuples(st.text(max_size=20), st.text(max_size=50)).map(
        lambda pair: "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
    ),
)
CONTENT_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
     "application/json", "text/plain", "", "APPLICATION/X-WWW-FORM-URLENCODED"]
)  # fmt: skip


@settings(
    max_examples=150,
    derandomize=True,  # the same examples every run: no flaky leak-guard hits
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=BODIES,
    authorization=AUTHORIZATIONS,
    content_type=CONTENT_TYPES,
    base64_body=st.booleans(),
)
def test_never_a_500_never_a_token(
    env: Env, body: str, authorization: str | None, content_type: str, base64_body: bool
) -> None:
    if not env.aws.sm.list_secrets()["SecretList"][1:]:
        register(env.aws, "svc-1")  # a real client, whose id the fuzzer names
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = invoke(
        "issue_token",
        token_event(body, headers=headers, content_type=content_type, base64_body=base64_body),
    )
    assert answer.status in (400, 401), answer
    assert set(answer.body) == {"error", "error_description"}
    assert answer.headers["Cache-Control"] == "no-store"
