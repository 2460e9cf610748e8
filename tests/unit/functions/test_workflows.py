"""The pure parts of the run endpoints: configuration, names, tokens, and the error mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared import api_errors, runs
from shared.caller import Caller
from shared.http_api import base_path, status_of
from shared.runs import (
    RUN_ID,
    StartRequest,
    WorkflowSettings,
    decode_next_token,
    encode_next_token,
    execution_arn,
    iso,
    parse_start_body,
    run_name,
)
from shared.settings import ConfigurationError

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:wf-api-demo"


class TestSettings:
    def test_workflows_map_ids_to_state_machines(self) -> None:
        settings = WorkflowSettings.from_env({"WORKFLOWS": json.dumps({"demo": ARN})})

        assert settings.state_machine("demo") == ARN
        with pytest.raises(runs.UnknownWorkflowError):
            settings.state_machine("other")

    def test_the_mapping_cannot_be_changed_after_parsing(self) -> None:
        settings = WorkflowSettings.from_env({"WORKFLOWS": json.dumps({"demo": ARN})})

        with pytest.raises(TypeError):
            settings.workflows["evil"] = ARN  # type: ignore[index]

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (None, "WORKFLOWS must be set"),
            ("  ", "WORKFLOWS must be set"),
            ("{oops", "not valid JSON"),
            ('["demo"]', "must be a JSON object"),
            (json.dumps({"bad id": ARN}), "'bad id'"),
            (json.dumps({"demo": "arn:aws:lambda:eu-west-1:1:function:x"}), "'demo'"),
            (json.dumps({"demo": 42}), "'demo'"),
        ],
    )
    def test_misconfiguration_names_the_problem(self, raw: str | None, message: str) -> None:
        env = {} if raw is None else {"WORKFLOWS": raw}

        with pytest.raises(ConfigurationError, match=message):
            WorkflowSettings.from_env(env)

    def test_execution_arn_follows_the_state_machine(self) -> None:
        assert execution_arn(ARN, "r1") == (
            "arn:aws:states:eu-west-1:123456789012:execution:wf-api-demo:r1"
        )


class TestRunNames:
    alice = Caller(principal="alice", scheme="jwt", scopes=())

    def test_same_caller_and_key_give_the_same_name(self) -> None:
        assert run_name(self.alice, "k") == run_name(self.alice, "k")
        assert RUN_ID.fullmatch(run_name(self.alice, "k" * 255))

    @pytest.mark.parametrize(
        "other",
        [
            Caller(principal="bob", scheme="jwt", scopes=()),
            Caller(principal="alice", scheme="oauth", scopes=()),
        ],
    )
    def test_other_callers_get_other_names_for_the_same_key(self, other: Caller) -> None:
        assert run_name(other, "k") != run_name(self.alice, "k")

    def test_request_hash_ignores_key_order_but_not_content(self) -> None:
        one = StartRequest("demo", {"a": 1, "b": 2})
        same = StartRequest("demo", {"b": 2, "a": 1})

        assert one.request_hash() == same.request_hash()
        assert one.request_hash() != StartRequest("demo", {"a": 1, "b": 3}).request_hash()
        assert one.request_hash() != StartRequest("other", {"a": 1, "b": 2}).request_hash()


class TestStartBody:
    def test_path_workflow_wins_and_workflow_id_in_body_is_refused(self) -> None:
        with pytest.raises(api_errors.MalformedBodyError):
            parse_start_body({"workflowId": "x"}, workflow_id="demo", idempotency_key=None)

    def test_defaults(self) -> None:
        request = parse_start_body(None, workflow_id="demo", idempotency_key="k")

        assert request == StartRequest("demo", {}, "k")


class TestNextToken:
    def test_round_trip(self) -> None:
        token = encode_next_token("demo", "engine-token/+=")

        assert "=" not in token
        assert decode_next_token("demo", token) == "engine-token/+="
        assert decode_next_token("demo", None) is None

    @pytest.mark.parametrize(
        "token",
        [
            "",
            "%%%",
            encode_next_token("other", "t"),
            encode_next_token("demo", ""),
            "bnVsbA",  # base64url of "null"
        ],
    )
    def test_foreign_or_broken_tokens_are_refused(self, token: str) -> None:
        with pytest.raises(runs.InvalidNextTokenError):
            decode_next_token("demo", token)


class TestErrorMapping:
    def _all_errors(self) -> list[type[api_errors.ApiError]]:
        found: list[type[api_errors.ApiError]] = []
        pending: list[type[api_errors.ApiError]] = [api_errors.ApiError]
        while pending:
            cls = pending.pop()
            found.append(cls)
            pending.extend(cls.__subclasses__())
        return found

    def test_every_domain_error_is_a_client_error_or_a_dependency_failure(self) -> None:
        for cls in self._all_errors():
            assert status_of(cls("detail")) in {400, 401, 403, 404, 409, 413, 415, 502, 503}, cls

    @pytest.mark.parametrize(
        ("error", "status"),
        [
            (runs.UnknownWorkflowError, 404),
            (runs.RunNotFoundError, 404),
            (runs.InvalidRunIdError, 400),
            (api_errors.InvalidLimitError, 400),
            (runs.InvalidNextTokenError, 400),
            (runs.IdempotencyConflictError, 409),
            (runs.RunNotActiveError, 409),
            (runs.InputTooLargeError, 413),
            (api_errors.UnsupportedMediaTypeError, 415),
            (api_errors.DependencyBusyError, 503),
            (api_errors.MissingCallerContextError, 403),
        ],
    )
    def test_statuses(self, error: type[api_errors.ApiError], status: int) -> None:
        assert status_of(error("x")) == status

    def test_codes_are_unique_per_leaf(self) -> None:
        leaves = [cls for cls in self._all_errors() if not cls.__subclasses__()]
        codes = [cls.code for cls in leaves if cls is not api_errors.MissingCallerContextError]
        assert len(codes) == len(set(codes))


def _event(request_path: str | None, path: str) -> dict[str, Any]:
    raw: dict[str, Any] = {"path": path, "requestContext": {}}
    if request_path is not None:
        raw["requestContext"]["path"] = request_path
    return raw


@pytest.mark.parametrize(
    ("request_path", "path", "prefix"),
    [
        ("/v1/api/trigger", "/api/trigger", "/v1"),  # execute-api endpoint: the stage
        ("/workflows/api/trigger", "/api/trigger", "/workflows"),  # custom domain base path
        ("/api/trigger", "/api/trigger", ""),  # custom domain at the root, sam local
        (None, "/api/trigger", ""),
        ("/elsewhere", "/api/trigger", ""),
    ],
)
def test_base_path_for_location(request_path: str | None, path: str, prefix: str) -> None:
    assert base_path(_event(request_path, path)) == prefix


def test_iso_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 1, 31, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))

    assert iso(moment) == "2026-01-31T12:00:00.123Z"
    assert iso(None) is None
    assert iso(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"
