"""The committed API documents are what `python -m tools.openapi` generates, and valid."""

from __future__ import annotations

import json
import re

from openapi_spec_validator import validate

from shared.routes import ROUTES
from tests.helpers import ROOT
from tools import openapi, postman


def test_committed_documents_are_the_generated_ones() -> None:
    stale = [str(path.relative_to(ROOT)) for path in openapi.stale_files()]
    assert stale == [], f"regenerate with `make docs` (python -m tools.openapi): {stale}"


def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    document = json.loads(openapi.OPENAPI_FILE.read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_with_its_security_scope_and_errors() -> None:
    document = openapi.build()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"]["name"] == "X-Api-Key"
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == {"workflow:read", "workflow:trigger", "workflow:admin"}
    operations = [(m.upper(), p) for p, ms in document["paths"].items() for m in ms]
    assert sorted(operations) == sorted((r.method, r.path) for r in ROUTES)
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["x-scope"] == route.scope
        if route.scope:
            assert {"oauth2": [route.scope]} in operation["security"]
        if not route.guarded:
            assert operation["security"] == []
        statuses = set(operation["responses"])
        assert {"404", "500", "502"} <= statuses
        if route.guarded:
            assert {"401", "403"} <= statuses


def test_every_error_code_a_handler_declares_is_documented() -> None:
    document = json.loads(openapi.OPENAPI_FILE.read_text())
    text = json.dumps(document)
    for operation in openapi.OPERATIONS.values():
        for error in operation.errors:
            assert f"`{error.code}`" in text, error.code


def test_the_postman_collection_covers_every_route_in_table_order() -> None:
    collection = postman.collection()
    names = [item["name"] for item in collection["item"]]
    assert names == [f"{r.method} {r.path}" for r in ROUTES]
    script = "\n".join(collection["event"][0]["script"]["exec"])
    assert "/oauth/token" in script
    environment = postman.environment()
    secrets = [v for v in environment["values"] if v["type"] == "secret"]
    assert secrets
    assert all(v["value"] == "" for v in secrets)  # secrets are per run: never committed


def test_docs_api_reference_lists_every_route() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    for route in ROUTES:
        assert re.search(rf"### `{route.method} {re.escape(route.path)}`", text), route.path
