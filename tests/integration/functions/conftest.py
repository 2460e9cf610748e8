"""Handlers in-process against Step Functions in moto.

moto is imported before any handler builds a client; the service each handler uses is built
lazily from `WORKFLOWS`, so every test gets a fresh one bound to its own moto backend.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import moto
import pytest

from shared import runs
from tests.integration.functions.support import (
    ACCOUNT,
    DEFINITION,
    REGION,
    WORKFLOW_IDS,
    Engine,
    FakeLambdaContext,
    state_machine_arn,
)


def _engine(monkeypatch: pytest.MonkeyPatch, *, executes: bool) -> Iterator[Engine]:
    config = {
        "stepfunctions": {"execute_state_machine": executes},
        "core": {"reset_boto3_session": False},
    }
    with moto.mock_aws(config=config):
        client = boto3.client("stepfunctions", region_name=REGION)
        for workflow_id in WORKFLOW_IDS:
            client.create_state_machine(
                name=workflow_id,
                definition=DEFINITION,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/workflow-api-demo",
            )
        monkeypatch.setenv(
            "WORKFLOWS", json.dumps({wid: state_machine_arn(wid) for wid in WORKFLOW_IDS})
        )
        runs.default_service.cache_clear()
        yield Engine(client)
        runs.default_service.cache_clear()


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Executions really run (Pass states finish SUCCEEDED with their output)."""
    yield from _engine(monkeypatch, executes=True)


@pytest.fixture
def idle_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Executions stay RUNNING until stopped (moto's executing backend cannot stop them)."""
    yield from _engine(monkeypatch, executes=False)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(lambda_context: FakeLambdaContext) -> Invoke:
    """Call `functions/<name>/app.lambda_handler` with an event; return the proxy response."""

    def call(function: str, event: dict[str, Any]) -> dict[str, Any]:
        module = importlib.import_module(f"functions.{function}.app")
        result: dict[str, Any] = module.lambda_handler(event, lambda_context)
        return result

    return call
