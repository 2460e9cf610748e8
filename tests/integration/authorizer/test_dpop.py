"""DPoP at the authorizer, in-process, with the replay cache in DynamoDB (moto): bound tokens of
both token schemes accepted with fresh proofs; every proof fault, every downgrade and every
replay refused with 401 and its own audit reason; the replay store's outage a 500."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import boto3
import jwt
import pytest
from botocore.exceptions import EndpointConnectionError

from authorizer.authorize import Authorizer
from authorizer.guard import Guard
from authorizer.secret_store import SecretStore
from shared import AuthorizerSettings
from shared.settings import DpopMode, DpopSettings, SecuritySettings
from tests.dpop_keys import DpopKey
from tests.helpers import STAGE, authorizer_event, create_security_table
from tests.integration.authorizer.conftest import Secrets
from tests.integration.authorizer.support import (
    allowed,
    assert_dependency_error,
    assert_unauthorized,
    bearer,
)

TABLE = "workflow-api-security"
BASE = "https://api.example.com/v1"
Mint = Callable[..., str]
LogLines = Callable[[], list[dict[str, Any]]]


class Dynamo:
    """The guard's DynamoDB client, counting writes; `down` makes `put_item` fail."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.puts = 0
        self.down = False

    def put_item(self, **kwargs: Any) -> Any:
        self.puts += 1
        if self.down:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")
        return self.client.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def dynamo(aws: Secrets) -> Dynamo:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_security_table(client, TABLE)
    return Dynamo(client)


@pytest.fixture
def key() -> DpopKey:
    return DpopKey("ES256")


@pytest.fixture
def make(settings: AuthorizerSettings, aws: Secrets, dynamo: Dynamo) -> Callable[..., Authorizer]:
    def build(mode: DpopMode = DpopMode.OPTIONAL, **changes: Any) -> Authorizer:
        security = SecuritySettings(table_name=TABLE)
        configured = replace(
            settings,
            **{
                "security": security,
                "dpop": DpopSettings(mode),
                "public_base_url": BASE,
                **changes,
            },
        )
        store = SecretStore(5, client_factory=lambda: aws.client)
        return Authorizer(configured, store=store, guard=Guard(security, lambda: dynamo))

    return build


@pytest.fixture
def authz(make: Callable[..., Authorizer]) -> Authorizer:
    return make()


def dpop_event(
    token: str,
    proof: str | list[str] | None,
    method: str = "GET",
    path: str = "/api/automate",
    **kwargs: Any,
) -> dict[str, Any]:
    headers = {"Authorization": f"DPoP {token}"}
    proofs = [proof] if isinstance(proof, str) else (proof or [])
    if len(proofs) == 1:
        headers["DPoP"] = proofs[0]
    event = authorizer_event(method, path, headers, **kwargs)
    if len(proofs) > 1:
        event["multiValueHeaders"]["DPoP"] = proofs
    return event


def last_reason(log_lines: LogLines) -> str:
    decisions = [line for line in log_lines() if line.get("message") == "authorizer decision"]
    return str(decisions[-1]["reason"])


def refused(authz: Authorizer, event: dict[str, Any], log_lines: LogLines, reason: str) -> None:
    assert_unauthorized(authz, event)
    assert last_reason(log_lines) == reason


URL = BASE + "/api/automate"


# --- accepted -----------------------------------------------------------------------------


def test_a_bound_service_token_with_a_fresh_proof_is_allowed(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt}, jti="tok-7", scope="workflow:read")
    policy = authz.handle(dpop_event(token, key.proof("GET", URL, token)))
    assert policy["principalId"] == "svc-payments"
    assert policy["context"]["scheme"] == "jwt"
    assert policy["context"]["cnf_jkt"] == key.jkt
    assert policy["context"]["token_id"] == "tok-7"
    assert any(arn.endswith("/GET/api/automate") for arn in allowed(policy))
    assert last_reason(log_lines) == "ok"


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
@pytest.mark.parametrize("proof_alg", ["ES256", "RS256", "EdDSA"])
def test_a_bound_oauth_token_with_a_fresh_proof_is_allowed(
    authz: Authorizer, oauth_token: Mint, alg: str, proof_alg: str
) -> None:
    key = DpopKey(proof_alg)
    token = oauth_token(alg, cnf={"jkt": key.jkt})
    policy = authz.handle(dpop_event(token, key.proof("GET", URL, token)))
    assert policy["principalId"] == "user-42"
    assert policy["context"]["scheme"] == "oauth"
    assert policy["context"]["cnf_jkt"] == key.jkt


def test_the_dpop_scheme_name_is_case_insensitive(
    authz: Authorizer, service_token: Mint, key: DpopKey
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    event = authorizer_event(
        "GET",
        "/api/automate",
        {"Authorization": f"dpop {token}", "dpop": key.proof("GET", URL, token)},
    )
    assert authz.handle(event)["principalId"] == "svc-payments"


def test_a_request_with_a_query_matches_a_proof_for_its_path(
    authz: Authorizer, service_token: Mint, key: DpopKey
) -> None:
    token = service_token(cnf={"jkt": key.jkt}, scope="workflow:read")
    event = dpop_event(
        token,
        key.proof("GET", BASE + "/api/workflows/wf-1/runs", token),
        path="/api/workflows/wf-1/runs",
    )
    event["queryStringParameters"] = {"limit": "5"}
    assert authz.handle(event)["principalId"] == "svc-payments"
    proof_with_query = key.proof("GET", BASE + "/api/workflows/wf-1/runs?limit=5", token)
    assert authz.handle(dpop_event(token, proof_with_query, path="/api/workflows/wf-1/runs"))


def test_without_public_base_url_the_stage_url_is_expected(
    make: Callable[..., Authorizer], service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    authz = make(public_base_url=None)
    token = service_token(cnf={"jkt": key.jkt})
    stage_url = f"https://abc.execute-api.us-east-1.amazonaws.com/{STAGE}/api/automate"
    event = dpop_event(token, key.proof("GET", stage_url, token))
    event["requestContext"]["domainName"] = "abc.execute-api.us-east-1.amazonaws.com"
    assert authz.handle(event)["principalId"] == "svc-payments"
    other = dpop_event(token, key.proof("GET", URL, token))
    other["requestContext"]["domainName"] = "abc.execute-api.us-east-1.amazonaws.com"
    refused(authz, other, log_lines, "dpop_wrong_url")


# --- the proof against the request and the token -------------------------------------------


def test_a_proof_signed_by_another_key_than_cnf_jkt_is_refused(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    thief = DpopKey("ES256")
    refused(authz, dpop_event(token, thief.proof("GET", URL, token)), log_lines,
            "dpop_key_mismatch")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"htm": "POST"}, "dpop_wrong_method"),
        ({"htu": BASE + "/api/runs"}, "dpop_wrong_url"),
        ({"htu": "https://evil.example.com/v1/api/automate"}, "dpop_wrong_url"),
        ({"htu": "http://api.example.com/v1/api/automate"}, "dpop_wrong_url"),
        ({"iat": int(time.time()) - 400}, "dpop_stale"),
        ({"iat": int(time.time()) + 400}, "dpop_future"),
        ({"iat": "now"}, "dpop_bad_iat"),
        ({"jti": "j" * 300}, "dpop_bad_jti"),
        ({"ath": "x" * 43}, "dpop_bad_ath"),
    ],
)
def test_a_proof_not_for_this_request_is_refused(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines,
    change: dict[str, Any], reason: str,
) -> None:  # fmt: skip
    token = service_token(cnf={"jkt": key.jkt})
    refused(authz, dpop_event(token, key.proof("GET", URL, token, **change)), log_lines, reason)


def test_a_proof_without_ath_is_refused(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    refused(authz, dpop_event(token, key.proof("GET", URL)), log_lines, "dpop_bad_ath")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "none"}, "dpop_bad_alg"),
        ({"alg": "HS256"}, "dpop_bad_alg"),
        ({"alg": "RS512"}, "dpop_bad_alg"),
        ({"typ": "JWT"}, "dpop_bad_typ"),
        ({"crit": ["x"]}, "dpop_unsupported_crit"),
        ({"jwk": "private"}, "dpop_bad_key"),
        ({"jwk": "foreign-type"}, "dpop_bad_key"),
    ],
)
def test_a_forged_or_malformed_proof_is_refused_without_a_write(
    authz: Authorizer, service_token: Mint, key: DpopKey, dynamo: Dynamo, log_lines: LogLines,
    header: dict[str, Any], reason: str,
) -> None:  # fmt: skip
    token = service_token(cnf={"jkt": key.jkt})
    if header.get("jwk") == "private":
        header = {"jwk": jwt.algorithms.ECAlgorithm.to_jwk(key.private_key, as_dict=True)}
    elif header.get("jwk") == "foreign-type":
        header = {"jwk": DpopKey("EdDSA").jwk}
    proof = key.sign_raw(key.header(**header), key.claims("GET", URL, token))
    refused(authz, dpop_event(token, proof), log_lines, reason)
    assert dynamo.puts == 0


def test_a_proof_with_a_bad_signature_costs_no_write(
    authz: Authorizer, service_token: Mint, key: DpopKey, dynamo: Dynamo, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    proof = DpopKey("ES256").sign_raw(key.header(), key.claims("GET", URL, token))
    refused(authz, dpop_event(token, proof), log_lines, "dpop_bad_signature")
    assert dynamo.puts == 0


def test_a_proof_over_8_kib_is_refused(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    proof = key.proof("GET", URL, token, pad="x" * 8192)
    assert_unauthorized(authz, dpop_event(token, proof))
    assert last_reason(log_lines) == "dpop_oversized"


def test_two_dpop_headers_are_refused(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    proofs = [key.proof("GET", URL, token), key.proof("GET", URL, token)]
    refused(authz, dpop_event(token, proofs), log_lines, "dpop_multiple_proofs")


def test_a_dpop_presentation_without_a_proof_is_refused(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    refused(authz, dpop_event(token, None), log_lines, "dpop_missing_proof")


def test_the_token_still_has_to_verify(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt}, key="x" * 40)
    refused(authz, dpop_event(token, key.proof("GET", URL, token)), log_lines, "bad_signature")


# --- replay ---------------------------------------------------------------------------------


def test_the_same_proof_twice_is_a_replay(
    authz: Authorizer, service_token: Mint, key: DpopKey, dynamo: Dynamo, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    event = dpop_event(token, key.proof("GET", URL, token))
    assert authz.handle(event)["principalId"] == "svc-payments"
    refused(authz, event, log_lines, "dpop_replay")
    assert dynamo.puts == 2
    # A fresh proof for the same token is fine: only the proof is single-use.
    assert authz.handle(dpop_event(token, key.proof("GET", URL, token)))


def test_a_replay_is_refused_by_another_container(
    make: Callable[..., Authorizer], service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    event = dpop_event(token, key.proof("GET", URL, token))
    assert make().handle(event)
    refused(make(), event, log_lines, "dpop_replay")


def test_the_same_jti_under_two_keys_does_not_collide(
    authz: Authorizer, service_token: Mint
) -> None:
    for client in (DpopKey("ES256"), DpopKey("ES256")):
        token = service_token(cnf={"jkt": client.jkt})
        assert authz.handle(dpop_event(token, client.proof("GET", URL, token, jti="same")))


def test_a_concurrent_replay_has_exactly_one_winner(
    make: Callable[..., Authorizer], service_token: Mint, key: DpopKey
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    event = dpop_event(token, key.proof("GET", URL, token))
    containers = [make() for _ in range(8)]
    for container in containers:  # warm: the race is on the write, not on a first secret read
        container.handle(dpop_event(token, key.proof("GET", URL, token)))
    start = threading.Barrier(len(containers))
    outcomes: list[str] = []

    def call(container: Authorizer) -> None:
        start.wait()
        try:
            container.handle(event)
            outcomes.append("allow")
        except Exception as error:  # the outcome is the point
            outcomes.append(str(error))

    threads = [threading.Thread(target=call, args=(c,)) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["Unauthorized"] * 7 + ["allow"]


def test_the_replay_store_down_fails_closed(
    authz: Authorizer, service_token: Mint, key: DpopKey, dynamo: Dynamo, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    dynamo.down = True
    assert_dependency_error(authz, dpop_event(token, key.proof("GET", URL, token)))
    assert last_reason(log_lines) == "security_table_unavailable"


def test_the_replay_marker_expires_with_the_proof_window(
    authz: Authorizer, service_token: Mint, key: DpopKey, dynamo: Dynamo
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    issued = int(time.time())
    authz.handle(dpop_event(token, key.proof("GET", URL, token, iat=issued)))
    items = dynamo.client.scan(TableName=TABLE)["Items"]
    markers = [item for item in items if item["pk"]["S"].startswith(f"dpop#{key.jkt}#")]
    assert [int(item["expires_at"]["N"]) for item in markers] == [issued + 300 + 60]


# --- downgrade and modes ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", [DpopMode.OFF, DpopMode.OPTIONAL])
@pytest.mark.parametrize("cnf", [{"jkt": "A" * 43}, {"x5t#S256": "abc"}, "odd"])
def test_a_bound_token_presented_as_bearer_is_refused(
    make: Callable[..., Authorizer], service_token: Mint, log_lines: LogLines,
    mode: DpopMode, cnf: object,
) -> None:  # fmt: skip
    refused(make(mode), bearer("GET", "/api/automate", service_token(cnf=cnf)), log_lines,
            "dpop_bound_as_bearer")  # fmt: skip


def test_a_bound_oauth_token_presented_as_bearer_is_refused(
    authz: Authorizer, oauth_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = oauth_token("ES256", cnf={"jkt": key.jkt})
    refused(authz, bearer("GET", "/api/automate", token), log_lines, "dpop_bound_as_bearer")


def test_in_required_mode_every_bearer_token_is_refused(
    make: Callable[..., Authorizer], service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    authz = make(DpopMode.REQUIRED)
    refused(authz, bearer("GET", "/api/automate", service_token()), log_lines, "dpop_required")
    bound = service_token(cnf={"jkt": key.jkt})
    refused(authz, bearer("GET", "/api/automate", bound), log_lines, "dpop_required")
    assert authz.handle(dpop_event(bound, key.proof("GET", URL, bound)))


def test_an_unbound_token_presented_as_dpop_is_refused(
    authz: Authorizer, service_token: Mint, oauth_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    for token in (service_token(), oauth_token(), service_token(cnf={"jkt": "short"})):
        refused(authz, dpop_event(token, key.proof("GET", URL, token)), log_lines, "dpop_unbound")


def test_in_off_mode_the_dpop_presentation_is_refused_before_any_work(
    make: Callable[..., Authorizer], service_token: Mint, key: DpopKey, dynamo: Dynamo,
    log_lines: LogLines,
) -> None:  # fmt: skip
    authz = make(DpopMode.OFF)
    token = service_token(cnf={"jkt": key.jkt})
    refused(authz, dpop_event(token, key.proof("GET", URL, token)), log_lines, "dpop_disabled")
    assert dynamo.puts == 0
    assert authz.handle(bearer("GET", "/api/automate", service_token()))


def test_in_optional_mode_both_presentations_are_accepted(
    authz: Authorizer, service_token: Mint, key: DpopKey
) -> None:
    assert authz.handle(bearer("GET", "/api/automate", service_token()))
    bound = service_token(cnf={"jkt": key.jkt})
    assert authz.handle(dpop_event(bound, key.proof("GET", URL, bound)))


def test_the_api_key_routes_are_untouched_by_dpop_mode(
    make: Callable[..., Authorizer], log_lines: LogLines
) -> None:
    authz = make(DpopMode.REQUIRED)
    event = authorizer_event("GET", "/api/internal", {"X-Api-Key": "wfk_short"})
    refused(authz, event, log_lines, "malformed")


def test_no_proof_or_token_appears_in_the_logs(
    authz: Authorizer, service_token: Mint, key: DpopKey, log_lines: LogLines
) -> None:
    token = service_token(cnf={"jkt": key.jkt})
    proof = key.proof("GET", URL, token)
    event = dpop_event(token, proof)
    authz.handle(event)
    assert_unauthorized(authz, event)
    text = "\n".join(str(line) for line in log_lines())
    for secret in (proof, token, *proof.split("."), *token.split(".")):
        assert secret not in text
