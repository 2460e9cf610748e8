"""`POST /oauth/token` through its handler against moto: what a client gets, and every way of
asking wrongly (RFC 6749 sections 2.3, 3.3, 4.4 and 5.2; RFC 7523 sections 2.2 and 3)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from shared import clients
from shared.clients import service as token_service
from shared.secret_formats import ClientRecord, parse_signing_secret
from tests.conftest import LogLines
from tests.integration.clients.support import (
    AUDIENCE,
    BASE_URL,
    FORM,
    ISSUER,
    TOKEN_URL,
    Env,
    assert_refused,
    assertion,
    assertion_form,
    authorizer_answer,
    basic,
    ec_key,
    invoke,
    register,
    request_token,
    rsa_key,
    token_event,
)
from tests.integration.rotation.support import value_of

GRANT = {"grant_type": "client_credentials"}


def _claims(env: Env, token: str) -> dict[str, Any]:
    key = parse_signing_secret(value_of(env.aws, env.signing_secret_arn, "AWSCURRENT"))
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
    )
    return claims


class TestIssued:
    def test_basic_client_gets_a_bound_short_lived_token_the_authorizer_accepts(
        self, env: Env
    ) -> None:
        client = register(env.aws, "reports-service", ("workflow:read",))
        assert client.client_secret is not None
        answer = request_token(auth=("reports-service", client.client_secret))

        assert answer.status == 200, answer
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Pragma"] == "no-cache"
        assert set(answer.body) == {"access_token", "token_type", "expires_in", "scope"}
        assert answer.body["token_type"] == "Bearer"
        assert answer.body["expires_in"] == 900
        assert answer.body["scope"] == "workflow:read"
        claims = _claims(env, answer.body["access_token"])
        assert claims["iss"] == ISSUER
        assert claims["aud"] == AUDIENCE
        assert claims["sub"] == claims["client_id"] == "reports-service"
        assert claims["scope"] == "workflow:read"
        assert claims["exp"] - claims["iat"] == 900
        assert abs(claims["iat"] - time.time()) < 5
        # >= 128 random bits: 24 bytes in base64url.
        assert len(base64.urlsafe_b64decode(claims["jti"] + "==")) >= 16

        token = answer.body["access_token"]
        assert authorizer_answer(env.aws, token, "GET", "/api/workflows/demo/runs") == "allow"
        # workflow:read only: the policy leaves POST /api/trigger out (API Gateway's 403).
        assert authorizer_answer(env.aws, token, "POST", "/api/trigger") == "deny"

    def test_client_secret_post(self, env: Env) -> None:
        client = register(env.aws, "orders-service", ("workflow:trigger",))
        answer = request_token(
            {**GRANT, "client_id": "orders-service", "client_secret": str(client.client_secret)}
        )
        assert answer.status == 200, answer
        token = answer.body["access_token"]
        assert authorizer_answer(env.aws, token, "POST", "/api/trigger") == "allow"

    def test_basic_credentials_are_form_url_encoded_first(self, env: Env) -> None:
        client = register(env.aws, "svc-1", ("workflow:read",))
        # RFC 6749 section 2.3.1: id and secret are form-url-encoded before Basic encoding.
        raw = f"svc%2D1:{client.client_secret}".encode()
        header = "basic " + base64.b64encode(raw).decode()  # the scheme is case-insensitive
        answer = request_token(headers={"Authorization": header})
        assert answer.status == 200, answer

    def test_basic_with_the_same_client_id_in_the_body_is_one_method(self, env: Env) -> None:
        client = register(env.aws, "svc-1", ("workflow:read",))
        answer = request_token(
            {**GRANT, "client_id": "svc-1"}, auth=("svc-1", str(client.client_secret))
        )
        assert answer.status == 200, answer

    def test_base64_encoded_body(self, env: Env) -> None:
        client = register(env.aws, "svc-1", ("workflow:read",))
        answer = request_token(
            "grant_type=client_credentials",
            auth=("svc-1", str(client.client_secret)),
            base64_body=True,
        )
        assert answer.status == 200, answer

    @pytest.mark.parametrize("pair", [ec_key(), rsa_key()], ids=["ES256", "PS256"])
    @pytest.mark.parametrize("audience", [TOKEN_URL, ISSUER, [TOKEN_URL, "someone-else"]])
    def test_private_key_jwt(self, env: Env, pair: Any, audience: Any) -> None:
        register(env.aws, "batch-signer", ("workflow:read",), secret=False,
                 jwks={"keys": [pair.jwk]})  # fmt: skip
        signed = assertion(pair, "batch-signer", audience=audience)
        answer = request_token(assertion_form(signed))
        assert answer.status == 200, answer
        claims = _claims(env, answer.body["access_token"])
        assert claims["sub"] == "batch-signer"
        token = answer.body["access_token"]
        assert authorizer_answer(env.aws, token, "GET", "/api/workflows/x/runs") == "allow"

    def test_private_key_jwt_with_a_matching_client_id(self, env: Env) -> None:
        pair = ec_key()
        register(env.aws, "batch-signer", secret=False, jwks={"keys": [pair.jwk]})
        form = assertion_form(assertion(pair, "batch-signer"), client_id="batch-signer")
        assert request_token(form).status == 200

    def test_the_clients_own_shorter_lifetime(self, env: Env) -> None:
        client = register(env.aws, "short-lived", ("workflow:read",), lifetime=120)
        answer = request_token(auth=("short-lived", str(client.client_secret)))
        assert answer.body["expires_in"] == 120
        claims = _claims(env, answer.body["access_token"])
        assert claims["exp"] - claims["iat"] == 120


class TestScopes:
    @pytest.mark.parametrize(
        ("allowed", "requested", "granted"),
        [
            (("workflow:read", "workflow:trigger"), None, "workflow:read workflow:trigger"),
            (("workflow:read", "workflow:trigger"), "workflow:read", "workflow:read"),
            (("workflow:read",), "workflow:read:demo", "workflow:read:demo"),
            (("workflow:admin",), "workflow:read", "workflow:read"),
            (("workflow:admin",), "workflow:trigger:nightly", "workflow:trigger:nightly"),
            (
                ("workflow:read:demo",),
                "workflow:read:demo workflow:read:demo",
                "workflow:read:demo",
            ),
        ],
    )
    def test_granted_never_beyond_allowed(
        self, env: Env, allowed: tuple[str, ...], requested: str | None, granted: str
    ) -> None:
        client = register(env.aws, "scoped", allowed)
        form = dict(GRANT) if requested is None else {**GRANT, "scope": requested}
        answer = request_token(form, auth=("scoped", str(client.client_secret)))
        assert answer.status == 200, answer
        assert answer.body["scope"] == granted
        assert _claims(env, answer.body["access_token"])["scope"] == granted

    @pytest.mark.parametrize(
        "requested",
        [
            "workflow:admin",  # not allowed
            "workflow:read workflow:admin",
            "workflow:trigger",
            "workflow:trigger:demo workflow:read",
            "workflow:admin:demo",  # never a scope
            "unknown",
            "Workflow:read",  # case-sensitive
            "workflow:read\tworkflow:trigger",  # RFC 6749 section 3.3: spaces only
            "workflow:read\u00a0workflow:trigger",
            "workflow:read  workflow:trigger",
            " workflow:read",
            'workflow:"read"',
            "workflow:read\\x",
            "workflow:r\u00e9ad",
            "workflow:read\nworkflow:trigger",
            "x" * 5000,
        ],
    )
    def test_invalid_scope(self, env: Env, requested: str) -> None:
        client = register(env.aws, "scoped", ("workflow:read:demo", "workflow:read"))
        answer = request_token(
            {**GRANT, "scope": requested}, auth=("scoped", str(client.client_secret))
        )
        assert_refused(answer, 400, "invalid_scope")


class TestInvalidRequest:
    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            ("grant_type=client_credentials", "application/json"),
            ("grant_type=client_credentials", None),
            ("grant_type=client_credentials", "text/plain"),
            ("grant_type=client_credentials", "multipart/form-data; boundary=x"),
            ("grant_type=client_credentials&grant_type=client_credentials", FORM),
            ("grant_type=client_credentials&scope=a&scope=b", FORM),
            ("grant_type=client_credentials&client_id=a&client_id=a", FORM),
            ("grant_type=client_credentials&client_id=&client_id=a", FORM),
            ("", FORM),
            ("scope=workflow%3Aread", FORM),
            ("grant_type=client_credentials&" + "x=" + "a" * 17000, FORM),
            ("grant_type=%ff%fe", FORM),
            ("grant_type", FORM),
            ("&&&", FORM),
            ("&".join(f"f{i}=1" for i in range(40)), FORM),
        ],
    )
    def test_malformed_requests(self, env: Env, body: str, content_type: str | None) -> None:
        client = register(env.aws, "svc-1")
        answer = request_token(
            body, auth=("svc-1", str(client.client_secret)), content_type=content_type
        )
        assert_refused(answer, 400, "invalid_request")

    @pytest.mark.parametrize(
        "form",
        [
            {"client_id": "svc-1", "client_secret": "{secret}"},
            {"client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": "a.b.c"},
        ],
        ids=["basic+post", "basic+assertion"],
    )
    def test_two_authentication_methods(self, env: Env, form: dict[str, str]) -> None:
        client = register(env.aws, "svc-1")
        secret = str(client.client_secret)
        body = {**GRANT, **{k: v.replace("{secret}", secret) for k, v in form.items()}}
        assert_refused(request_token(body, auth=("svc-1", secret)), 400, "invalid_request")

    def test_post_and_assertion(self, env: Env) -> None:
        pair = ec_key()
        client = register(env.aws, "svc-1", jwks={"keys": [pair.jwk]})
        body = assertion_form(
            assertion(pair, "svc-1"), client_id="svc-1", client_secret=str(client.client_secret)
        )
        assert_refused(request_token(body), 400, "invalid_request")

    def test_two_authorization_headers(self, env: Env) -> None:
        client = register(env.aws, "svc-1")
        value = basic("svc-1", str(client.client_secret))
        event = token_event(GRANT, headers={"Authorization": value},
                            multi={"Authorization": [value, value]})  # fmt: skip
        assert_refused(invoke("issue_token", event), 400, "invalid_request")

    def test_post_without_client_id(self, env: Env) -> None:
        client = register(env.aws, "svc-1")
        answer = request_token({**GRANT, "client_secret": str(client.client_secret)})
        assert_refused(answer, 400, "invalid_request")

    def test_assertion_without_its_type(self, env: Env) -> None:
        pair = ec_key()
        register(env.aws, "svc-1", secret=False, jwks={"keys": [pair.jwk]})
        answer = request_token({**GRANT, "client_assertion": assertion(pair, "svc-1")})
        assert_refused(answer, 400, "invalid_request")


class TestGrantType:
    @pytest.mark.parametrize(
        "grant", ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS",
                  "urn:ietf:params:oauth:grant-type:jwt-bearer"],
    )  # fmt: skip
    def test_unsupported_grant_type(self, env: Env, grant: str) -> None:
        client = register(env.aws, "svc-1")
        answer = request_token({"grant_type": grant}, auth=("svc-1", str(client.client_secret)))
        assert_refused(answer, 400, "unsupported_grant_type")


class TestInvalidClient:
    def test_wrong_secret_with_basic_gets_a_basic_challenge(self, env: Env) -> None:
        register(env.aws, "svc-1")
        answer = request_token(auth=("svc-1", "A" * 43))
        assert_refused(answer, 401, "invalid_client")
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="workflow-api"'

    def test_wrong_secret_with_post_gets_no_challenge(self, env: Env) -> None:
        register(env.aws, "svc-1")
        answer = request_token({**GRANT, "client_id": "svc-1", "client_secret": "A" * 43})
        assert_refused(answer, 401, "invalid_client")
        assert "WWW-Authenticate" not in answer.headers

    @pytest.mark.parametrize(
        "header",
        [
            "Basic not-base64!",
            "Basic " + base64.b64encode(b"no-colon-here").decode(),
            "Basic " + base64.b64encode(b":only-a-secret").decode(),
            "Basic " + base64.b64encode(b"svc-1:").decode(),
            "Basic " + base64.b64encode(b"svc-1:\xff\xfe").decode(),
            "Basic " + base64.b64encode(b"svc-1:%ff").decode(),
            "Basic",
            "Basic  " + base64.b64encode(b"svc-1:x").decode(),
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
            "Digest username=svc-1",
            "Basic " + "A" * 2000,
        ],
    )
    def test_malformed_basic(self, env: Env, header: str) -> None:
        register(env.aws, "svc-1")
        answer = request_token(headers={"Authorization": header})
        assert_refused(answer, 401, "invalid_client")
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="workflow-api"'

    def test_no_authentication_at_all(self, env: Env) -> None:
        assert_refused(request_token({**GRANT, "client_id": "svc-1"}), 401, "invalid_client")

    def test_unknown_revoked_and_key_only_clients(self, env: Env) -> None:
        revoked = register(env.aws, "gone-service", revoked=True)
        register(env.aws, "keys-only", secret=False, jwks={"keys": [ec_key().jwk]})
        for auth in (
            ("nobody-here", "A" * 43),
            ("gone-service", str(revoked.client_secret)),
            ("keys-only", "A" * 43),
        ):
            assert_refused(request_token(auth=auth), 401, "invalid_client")

    def test_malformed_client_id_never_reaches_secrets_manager(
        self, env: Env, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[str] = []
        real = env.aws.sm

        class Counting:
            def __getattr__(self, name: str) -> Any:
                calls.append(name)
                return getattr(real, name)

        monkeypatch.setattr(token_service, "new_secrets_client", Counting)
        clients.default_service.cache_clear()
        for client_id in ("UPPER", "a", "../etc/passwd", "x" * 65, "svc_1", "-svc"):
            assert_refused(request_token(auth=(client_id, "A" * 43)), 401, "invalid_client")
        assert calls == []


class TestAssertions:
    @pytest.fixture
    def pair(self, env: Env) -> Any:
        pair = ec_key()
        register(env.aws, "signer", ("workflow:read",), secret=False, jwks={"keys": [pair.jwk]})
        return pair

    def test_a_replayed_jti_is_refused(self, env: Env, pair: Any) -> None:
        signed = assertion(pair, "signer")
        assert request_token(assertion_form(signed)).status == 200
        assert_refused(request_token(assertion_form(signed)), 401, "invalid_client")
        # Another assertion with the same jti is the same replay.
        again = assertion(
            pair, "signer", jti=jwt.decode(signed, options={"verify_signature": False})["jti"]
        )
        assert_refused(request_token(assertion_form(again)), 401, "invalid_client")
        item = env.dynamodb.scan(TableName="workflow-api-security")["Items"]
        markers = [i for i in item if i["pk"]["S"].startswith("assertion#signer#")]
        assert len(markers) == 1
        exp = jwt.decode(signed, options={"verify_signature": False})["exp"]
        assert int(markers[0]["expires_at"]["N"]) == exp + 60

    def test_the_same_jti_of_another_client_is_not_a_replay(self, env: Env, pair: Any) -> None:
        other = ec_key("other-1")
        register(env.aws, "signer-two", secret=False, jwks={"keys": [other.jwk]})
        assert request_token(assertion_form(assertion(pair, "signer", jti="j-1"))).status == 200
        second = assertion(other, "signer-two", jti="j-1")
        assert request_token(assertion_form(second)).status == 200

    def _unsigned(self, claims: dict[str, Any], header: dict[str, Any]) -> str:
        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        return f"{part(header)}.{part(claims)}.c2ln"

    def test_alg_none_and_hs256(self, env: Env, pair: Any) -> None:
        now = int(time.time())
        claims = {"iss": "signer", "sub": "signer", "aud": TOKEN_URL, "exp": now + 60,
                  "jti": "none-1"}  # fmt: skip
        unsigned = self._unsigned(claims, {"alg": "none", "kid": "key-1"})
        assert_refused(request_token(assertion_form(unsigned[: unsigned.rindex(".") + 1] + "x")),
                       401, "invalid_client")  # fmt: skip
        # HS256 "signed" with the public key's PEM (classic key confusion), or any secret.
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        pem = pair.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        import hashlib  # noqa: PLC0415
        import hmac  # noqa: PLC0415

        for key in (pem, b"k" * 32):
            # Signed by hand: PyJWT itself refuses to use a public key as an HMAC secret.
            head = self._unsigned(claims, {"alg": "HS256", "kid": "key-1"}).rsplit(".", 1)[0]
            mac = hmac.new(key, head.encode(), hashlib.sha256).digest()
            hs = head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
            assert_refused(request_token(assertion_form(hs)), 401, "invalid_client")

    @pytest.mark.parametrize(
        ("changes", "header"),
        [
            ({"audience": "https://elsewhere.example/oauth/token"}, {}),
            ({"audience": BASE_URL}, {}),
            ({"lifetime": -120}, {}),  # expired beyond the skew
            ({"lifetime": 3600}, {}),  # exp more than 300 s ahead
            ({"sub": "someone-else"}, {}),
            ({"iss": "someone-else"}, {}),
            ({}, {"kid": "unknown-kid"}),
            ({}, {"crit": ["exp"]}),
            ({}, {"jku": "https://attacker.example/jwks", "kid": "attacker"}),
        ],
    )
    def test_bad_assertions(
        self, env: Env, pair: Any, changes: dict[str, Any], header: dict[str, Any]
    ) -> None:
        claims = {k: v for k, v in changes.items() if k in ("sub", "iss")}
        options = {k: v for k, v in changes.items() if k in ("audience", "lifetime")}
        signed = assertion(pair, "signer", header=header, **options, **claims)
        assert_refused(request_token(assertion_form(signed)), 401, "invalid_client")

    def test_an_exp_too_large_for_a_float_is_invalid_client(self, env: Env, pair: Any) -> None:
        signed = assertion(pair, "signer", exp=10**400)
        assert_refused(request_token(assertion_form(signed)), 401, "invalid_client")

    def test_a_key_of_the_wrong_type_for_the_algorithm(self, env: Env) -> None:
        rsa = rsa_key("shared-kid")
        ec = ec_key("shared-kid")
        register(env.aws, "mixed", secret=False, jwks={"keys": [{**rsa.jwk, "alg": "PS256"}]})
        # Signed with EC under the RSA key's kid: the registered key does not fit ES256.
        signed = assertion(ec, "mixed")
        assert_refused(request_token(assertion_form(signed)), 401, "invalid_client")

    def test_a_key_signed_by_another_key_with_the_registered_kid(self, env: Env, pair: Any) -> None:
        forged = ec_key("key-1")  # same kid, another key
        signed = assertion(forged, "signer")
        assert_refused(request_token(assertion_form(signed)), 401, "invalid_client")

    @pytest.mark.parametrize("garbage", ["a.b.c", "x" * 9000, "eyJ9.eyJ9.", "...."])
    def test_garbage_assertions(self, env: Env, pair: Any, garbage: str) -> None:
        assert_refused(request_token(assertion_form(garbage)), 401, "invalid_client")

    def test_wrong_assertion_type(self, env: Env, pair: Any) -> None:
        form = assertion_form(assertion(pair, "signer"))
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
        assert_refused(request_token(form), 401, "invalid_client")

    def test_a_client_id_naming_another_client(self, env: Env, pair: Any) -> None:
        form = assertion_form(assertion(pair, "signer"), client_id="victim")
        assert_refused(request_token(form), 401, "invalid_client")

    def test_replay_store_down_fails_closed(
        self, env: Env, pair: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

        class Down:
            def __getattr__(self, name: str) -> Any:
                def fail(**_: Any) -> Any:
                    raise EndpointConnectionError(endpoint_url="https://dynamodb")

                return fail

        monkeypatch.setattr(token_service, "new_dynamodb_client", Down)
        clients.default_service.cache_clear()
        answer = request_token(assertion_form(assertion(pair, "signer")))
        assert answer.status == 503
        assert "access_token" not in json.dumps(answer.body)


class TestLockout:
    def test_failures_lock_the_source_ip_not_the_client(self, env: Env) -> None:
        client = register(env.aws, "svc-1")
        secret = str(client.client_secret)
        attacker = "203.0.113.66"
        for _ in range(10):
            answer = request_token(auth=("svc-1", "B" * 43), source_ip=attacker)
            assert_refused(answer, 401, "invalid_client")
        # The attacker's IP is locked: even the right secret gets invalid_client from there.
        assert_refused(request_token(auth=("svc-1", secret), source_ip=attacker), 401,
                       "invalid_client")  # fmt: skip
        # The client itself is not: anyone can name a client id.
        assert request_token(auth=("svc-1", secret), source_ip="198.51.100.99").status == 200

    def test_unknown_clients_and_bad_assertions_count_too(self, env: Env) -> None:
        for _ in range(10):
            request_token(auth=("nobody-here", "B" * 43), source_ip="203.0.113.67")
        item = env.dynamodb.scan(TableName="workflow-api-security")["Items"]
        (counter,) = [i for i in item if "203.0.113.67" in i["pk"]["S"]]
        assert counter["pk"]["S"].startswith("fail#ip#203.0.113.67#")
        assert counter["count"]["N"] == "10"
        assert not [i for i in item if i["pk"]["S"].startswith("fail#cred#")]

    def test_request_errors_do_not_count(self, env: Env) -> None:
        client = register(env.aws, "svc-1")
        for _ in range(12):
            request_token({"grant_type": "password"}, auth=("svc-1", str(client.client_secret)),
                          source_ip="203.0.113.68")  # fmt: skip
        assert request_token(auth=("svc-1", str(client.client_secret)),
                             source_ip="203.0.113.68").status == 200  # fmt: skip


class TestAuditAndMetrics:
    def test_one_audit_line_per_request(self, env: Env, log_lines: LogLines) -> None:
        client = register(env.aws, "svc-1", ("workflow:read", "workflow:trigger"))
        secret = str(client.client_secret)
        issued = request_token({**GRANT, "scope": "workflow:read"}, auth=("svc-1", secret))
        request_token(auth=("svc-1", "C" * 43))
        request_token({"grant_type": "password"}, auth=("svc-1", secret))
        lines = [line for line in log_lines() if line.get("message") == "token request"]
        assert len(lines) == 3
        jti = _claims(env, issued.body["access_token"])["jti"]
        assert lines[0]["decision"] == "issued"
        assert lines[0]["client_id"] == "svc-1"
        assert lines[0]["scopes"] == "workflow:read"
        assert lines[0]["jti"] == jti
        assert lines[0]["reason"] == "issued"
        assert lines[0]["auth_method"] == "client_secret_basic"
        assert lines[1]["decision"] == "refused"
        assert lines[1]["reason"] == "bad_secret"
        assert "client_id" not in lines[1]  # not authenticated: only what was claimed
        assert lines[1]["claimed_client_id"] == "svc-1"
        assert lines[2]["reason"] == "unsupported_grant_type"
        text = json.dumps(lines)
        assert secret not in text
        assert issued.body["access_token"] not in text

    def test_metrics_by_reason(self, env: Env, capsys: pytest.CaptureFixture[str]) -> None:
        client = register(env.aws, "svc-1")
        request_token(auth=("svc-1", str(client.client_secret)))
        request_token(auth=("svc-1", "D" * 43))
        blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()
                 if line.startswith("{") and "_aws" in line]  # fmt: skip
        names = {
            m["Name"] for b in blobs for d in b["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
        }
        assert {"TokenIssued", "TokenRefused"} <= names
        refused = [b for b in blobs if "TokenRefused" in b]
        assert refused[0]["reason"] == "bad_secret"


class TestDependencies:
    def test_secrets_manager_down_is_503_never_a_token(
        self, env: Env, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

        class Down:
            def get_secret_value(self, **_: Any) -> Any:
                raise EndpointConnectionError(endpoint_url="https://secretsmanager")

        monkeypatch.setattr(token_service, "new_secrets_client", Down)
        clients.default_service.cache_clear()
        answer = request_token(auth=("svc-1", "E" * 43))
        assert answer.status == 503
        assert "access_token" not in json.dumps(answer.body)

    def test_a_weak_signing_key_is_a_500_never_a_weak_token(self, env: Env) -> None:
        client = register(env.aws, "svc-1")
        env.aws.sm.put_secret_value(
            SecretId=env.signing_secret_arn,
            SecretString=json.dumps({"kid": "weak", "key": "short"}),
            VersionStages=["AWSCURRENT"],
        )
        answer = request_token(auth=("svc-1", str(client.client_secret)))
        assert answer.status == 500
        assert "access_token" not in json.dumps(answer.body)

    def test_misconfiguration_fails_the_cold_start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from shared.settings import ConfigurationError  # noqa: PLC0415

        base = {"JWT_SECRET_ID": "s", "JWT_ISSUER": "i", "JWT_AUDIENCE": "a"}
        clients.TokenServiceSettings.from_env(base)
        for broken in (
            {**base, "JWT_ISSUER": ""},
            {**base, "JWT_AUDIENCE": ""},
            {k: v for k, v in base.items() if k != "JWT_SECRET_ID"},
            {**base, "TOKEN_LIFETIME_SECONDS": "7200"},
            {**base, "TOKEN_LIFETIME_SECONDS": "3600", "JWT_MAX_LIFETIME_SECONDS": "1800"},
            {**base, "PUBLIC_BASE_URL": "http://api.example.com"},
        ):
            with pytest.raises(ConfigurationError):
                clients.TokenServiceSettings.from_env(broken)


class TestMetadataAndRoutes:
    def test_rfc_8414_metadata(self, env: Env) -> None:
        from tests.helpers import load_event  # noqa: PLC0415

        answer = invoke("get_oauth_metadata", load_event("get_oauth_metadata/metadata.json"))
        assert answer.status == 200
        assert answer.body["issuer"] == ISSUER
        assert answer.body["token_endpoint"] == TOKEN_URL
        assert answer.body["grant_types_supported"] == ["client_credentials"]
        assert answer.body["token_endpoint_auth_methods_supported"] == [
            "client_secret_basic", "client_secret_post", "private_key_jwt",
        ]  # fmt: skip
        algs = answer.body["token_endpoint_auth_signing_alg_values_supported"]
        assert "none" not in algs
        assert not any(a.startswith("HS") for a in algs)
        assert answer.body["scopes_supported"] == [
            "workflow:read", "workflow:trigger", "workflow:admin",
        ]  # fmt: skip

    def test_the_authorizer_refuses_an_event_for_the_token_route(self, env: Env) -> None:
        """API Gateway never calls the authorizer for a route without one; an event naming it
        is forged or misrouted, and gets Unauthorized, never a policy."""
        client = register(env.aws, "svc-1", ("workflow:admin",))
        token = request_token(auth=("svc-1", str(client.client_secret))).body["access_token"]
        for method, path in (("POST", "/oauth/token"),
                             ("GET", "/.well-known/oauth-authorization-server")):  # fmt: skip
            assert authorizer_answer(env.aws, token, method, path) == "unauthorized"

    def test_sample_events_stay_safe(self, env: Env) -> None:
        from tests.helpers import load_event  # noqa: PLC0415

        # The sample's Basic credentials are fake: an unknown client, never a 500.
        answer = invoke("issue_token", load_event("issue_token/client-secret-basic.json"))
        assert_refused(answer, 401, "invalid_client")
        answer = invoke("issue_token", load_event("issue_token/two-methods.json"))
        assert_refused(answer, 400, "invalid_request")


def test_record_round_trip_and_refusals() -> None:
    record = ClientRecord("svc-1", "A" * 43, None, ("workflow:read",), 300)
    assert ClientRecord.parse(record.to_secret_string()) == record
    for broken in (
        "{}", "[]", "not json",
        json.dumps({"client_id": "svc-1", "allowed_scopes": []}),  # neither secret nor keys
        json.dumps({"client_id": "BAD", "client_secret": "A" * 43, "allowed_scopes": []}),
        json.dumps({"client_id": "svc-1", "client_secret": "short", "allowed_scopes": []}),
        json.dumps({"client_id": "svc-1", "client_secret": "A" * 43, "allowed_scopes": "x"}),
        json.dumps({"client_id": "svc-1", "client_secret": "A" * 43, "allowed_scopes": [],
                    "revoked": "no"}),
        json.dumps({"client_id": "svc-1", "client_secret": "A" * 43, "allowed_scopes": [],
                    "extra": 1}),
    ):  # fmt: skip
        with pytest.raises(ValueError):  # noqa: PT011 - SecretFormatError is a ValueError
            ClientRecord.parse(broken)
