"""`/api/admin/clients` through its four handlers against moto, with the authorizer's context;
what they register is then used at the token endpoint."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from shared.secret_formats import AWSCURRENT, ClientRecord
from tests.helpers import load_event
from tests.integration.admin.admin_support import settle_configuration_test
from tests.integration.clients.support import (
    CLIENT_PREFIX,
    TOKEN_URL,
    Answer,
    Env,
    assert_refused,
    assertion,
    assertion_form,
    ec_key,
    invoke,
    request_token,
)
from tests.integration.rotation.support import run_rotation, value_of


def _event(name: str, body: Any = None, client_id: str | None = None, **ctx: str) -> Any:
    event = copy.deepcopy(load_event(name))
    if body is not None:
        event["body"] = json.dumps(body)
    if client_id is not None:
        suffix = "/rotate" if event["resource"].endswith("/rotate") else ""
        path = f"/api/admin/clients/{client_id}{suffix}"
        event["path"], event["pathParameters"] = path, {"clientId": client_id}
        event["requestContext"]["path"] = "/v1" + path
    event["requestContext"]["authorizer"].update(ctx)
    return event


def create(body: Any, **ctx: str) -> Answer:
    return invoke("create_client", _event("create_client/register-client.json", body, **ctx))


class TestCreate:
    def test_registers_a_client_whose_secret_is_shown_once_and_works(self, env: Env) -> None:
        answer = create({"clientId": "reports-service", "scopes": ["workflow:read"]})
        assert answer.status == 201, answer
        assert set(answer.body) == {"clientId", "clientSecret", "allowedScopes", "tokenEndpoint"}
        assert answer.body["clientId"] == "reports-service"
        assert answer.body["allowedScopes"] == ["workflow:read"]
        assert answer.body["tokenEndpoint"] == TOKEN_URL
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Location"] == "/v1/api/admin/clients/reports-service"
        name = CLIENT_PREFIX + "reports-service"
        stored = ClientRecord.parse(value_of(env.aws, name, AWSCURRENT))
        assert stored.client_secret == answer.body["clientSecret"]
        described = env.aws.sm.describe_secret(SecretId=name)
        assert described["RotationEnabled"] is True
        secret = answer.body["clientSecret"]
        token = request_token(auth=("reports-service", secret))
        assert token.status == 200
        assert token.body["scope"] == "workflow:read"

    def test_a_key_only_client(self, env: Env) -> None:
        pair = ec_key()
        answer = create({"clientId": "signer", "scopes": ["workflow:trigger"], "noSecret": True,
                         "jwks": {"keys": [pair.jwk]}, "tokenLifetimeSeconds": 300})  # fmt: skip
        assert answer.status == 201, answer
        assert "clientSecret" not in answer.body
        assert not env.aws.sm.describe_secret(SecretId=CLIENT_PREFIX + "signer").get(
            "RotationEnabled"
        )
        token = request_token(assertion_form(assertion(pair, "signer")))
        assert token.status == 200
        assert token.body["expires_in"] == 300

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"clientId": "Bad_Id", "scopes": ["workflow:read"]}, "invalid_client_id"),
            ({"clientId": "ab", "scopes": ["workflow:read"]}, "invalid_client_id"),
            ({"clientId": "svc-1", "scopes": []}, "invalid_client_scopes"),
            ({"clientId": "svc-1", "scopes": ["workflow:admin:x"]}, "invalid_client_scopes"),
            ({"clientId": "svc-1", "scopes": "workflow:read"}, "invalid_client_scopes"),
            ({"clientId": "svc-1", "scopes": ["workflow:read"], "noSecret": True}, "no_credential"),
            ({"clientId": "svc-1", "scopes": ["workflow:read"], "tokenLifetimeSeconds": 901},
             "invalid_token_lifetime"),
            ({"clientId": "svc-1", "scopes": ["workflow:read"], "jwks": {"keys": []}},
             "invalid_jwks"),
            ({"clientId": "svc-1", "scopes": ["workflow:read"], "admin": True}, "invalid_body"),
        ],
    )  # fmt: skip
    def test_refusals(self, env: Env, body: Any, code: str) -> None:
        answer = create(body)
        assert answer.status == 400, answer
        assert answer.body["error"] == code

    def test_a_private_key_is_never_stored(self, env: Env) -> None:
        import jwt  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

        private = json.loads(
            jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()))
        )
        body = {
            "clientId": "svc-1",
            "scopes": ["workflow:read"],
            "jwks": {"keys": [{**private, "kid": "k"}]},
        }
        assert create(body).body["error"] == "invalid_jwks"
        hmac_key = {"kty": "oct", "k": "c2VjcmV0", "kid": "k"}
        body["jwks"] = {"keys": [hmac_key]}
        assert create(body).body["error"] == "invalid_jwks"

    def test_an_existing_client_id_is_a_conflict(self, env: Env) -> None:
        assert create({"clientId": "svc-1", "scopes": ["workflow:read"]}).status == 201
        answer = create({"clientId": "svc-1", "scopes": ["workflow:admin"]})
        assert answer.status == 409
        assert answer.body["error"] == "client_exists"

    def test_only_admins(self, env: Env) -> None:
        answer = create({"clientId": "svc-1", "scopes": ["workflow:admin"]},
                        scopes="workflow:read workflow:trigger")  # fmt: skip
        assert answer.status == 403


class TestListRotateRevoke:
    def test_list_never_shows_a_secret(self, env: Env) -> None:
        secret = create({"clientId": "svc-1", "scopes": ["workflow:read"]}).body["clientSecret"]
        create({"clientId": "signer", "scopes": ["workflow:read"], "noSecret": True,
                "jwks": {"keys": [ec_key("k-1").jwk]}})  # fmt: skip
        answer = invoke("list_clients", _event("list_clients/list-clients.json"))
        assert answer.status == 200
        assert secret not in json.dumps(answer.body)
        listed = {c["clientId"]: c for c in answer.body["clients"]}
        assert set(listed) == {"svc-1", "signer"}
        assert listed["svc-1"]["hasSecret"] is True
        assert listed["signer"]["keyIds"] == ["k-1"]
        assert listed["svc-1"]["revoked"] is False

    def test_list_pages_with_its_own_tokens_and_refuses_others(self, env: Env) -> None:
        for index in range(3):
            create({"clientId": f"svc-{index}", "scopes": ["workflow:read"]})
        event = _event("list_clients/list-clients.json")
        seen: list[str] = []
        token: str | None = None
        while True:
            event["queryStringParameters"] = {
                "limit": "2",
                **({"nextToken": token} if token else {}),
            }
            answer = invoke("list_clients", event)
            assert answer.status == 200, answer.body
            seen += [c["clientId"] for c in answer.body["clients"]]
            token = answer.body.get("nextToken")
            if not token:
                break
        assert sorted(seen) == ["svc-0", "svc-1", "svc-2"]
        # A token the listing did not issue is the caller's mistake (400), never a 502.
        for bad in ("[", "x" * 7000, "eyJ3IjoiZGVtbyJ9"):
            event["queryStringParameters"] = {"nextToken": bad}
            answer = invoke("list_clients", event)
            assert (answer.status, answer.body["error"]) == (400, "invalid_next_token")

    def test_rotate_starts_a_rotation_then_both_secrets_work(self, env: Env) -> None:
        old = create({"clientId": "svc-1", "scopes": ["workflow:read"]}).body["clientSecret"]
        name = CLIENT_PREFIX + "svc-1"
        settle_configuration_test(env.aws, name)
        answer = invoke(
            "rotate_client", _event("rotate_client/rotate-client.json", client_id="svc-1")
        )
        assert answer.status == 202, answer
        assert answer.body["clientId"] == "svc-1"
        again = invoke(
            "rotate_client", _event("rotate_client/rotate-client.json", client_id="svc-1")
        )
        assert again.status == 409
        arn = env.aws.sm.describe_secret(SecretId=name)["ARN"]
        run_rotation(arn, answer.body["versionId"])
        new = ClientRecord.parse(value_of(env.aws, name, AWSCURRENT)).client_secret
        assert new != old
        assert request_token(auth=("svc-1", old)).status == 200
        assert request_token(auth=("svc-1", str(new))).status == 200

    def test_rotate_refusals(self, env: Env) -> None:
        create({"clientId": "signer", "scopes": ["workflow:read"], "noSecret": True,
                "jwks": {"keys": [ec_key().jwk]}})  # fmt: skip
        event = _event("rotate_client/rotate-client.json", client_id="signer")
        assert invoke("rotate_client", event).body["error"] == "no_credential"
        event = _event("rotate_client/rotate-client.json", client_id="nobody-here")
        assert invoke("rotate_client", event).status == 404
        event = _event("rotate_client/rotate-client.json", client_id="BAD")
        assert invoke("rotate_client", event).status == 400

    def test_revoke_refuses_the_client_at_once(self, env: Env) -> None:
        secret = create({"clientId": "svc-1", "scopes": ["workflow:read"]}).body["clientSecret"]
        assert request_token(auth=("svc-1", secret)).status == 200
        event = _event("revoke_client/revoke-client.json", client_id="svc-1")
        answer = invoke("revoke_client", event)
        assert answer.status == 200, answer
        assert answer.body["revoked"] is True
        assert answer.body["deletionDate"]
        assert_refused(request_token(auth=("svc-1", secret)), 401, "invalid_client")
        assert invoke("revoke_client", event).status == 404
        listed = invoke("list_clients", _event("list_clients/list-clients.json"))
        assert listed.body["clients"] == []
