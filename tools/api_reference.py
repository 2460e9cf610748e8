"""The generated part of docs/api.md: one section per route, from the OpenAPI document.

docs/api.md is prose written by hand, with one region between the markers below that
`python -m tools.openapi` rewrites (and the test suite compares).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_FILE = ROOT / "docs" / "api.md"
BEGIN = "<!-- BEGIN GENERATED: python -m tools.openapi -->"
END = "<!-- END GENERATED -->"


def _schema_name(content: dict[str, Any] | None) -> str:
    if not content:
        return "—"
    media, body = next(iter(content.items()))
    target = body.get("schema", {}).get("$ref", "")
    name = target.rsplit("/", 1)[-1] if target else "JSON"
    return f"`{name}` ({media})"


def _section(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    security = operation["security"]
    if not security:
        credential = "none (the function authenticates the caller itself)"
    else:
        credential = " or ".join(
            f"`{name}`" + (f" with `{' '.join(scopes)}`" if scopes else "")
            for requirement in security
            for name, scopes in requirement.items()
        )
    scope = f"`{operation['x-scope']}`" if operation["x-scope"] else "none"
    lines = [
        f"### `{method.upper()} {path}`",
        "",
        f"{operation['summary']}. {operation['description']}",
        "",
        f"- **Scope**: {scope}",
        f"- **Schemes**: {', '.join(f'`{s}`' for s in operation['x-schemes'])}"
        f" (OpenAPI security: {credential})",
    ]
    parameters = operation.get("parameters", [])
    if parameters:
        shown = ", ".join(f"`{p['name']}` ({p['in']})" for p in parameters)
        lines.append(f"- **Parameters**: {shown}")
    body = operation.get("requestBody")
    if body:
        lines.append(f"- **Body**: {_schema_name(body['content'])}")
    lines += ["", "| status | body | meaning |", "|---|---|---|"]
    for status, answer in operation["responses"].items():
        lines.append(
            f"| {status} | {_schema_name(answer.get('content'))} | "
            f"{answer['description'].replace('|', '/')} |"
        )
    return [*lines, ""]


def _schemas(document: dict[str, Any]) -> list[str]:
    lines = ["### Shapes", ""]
    for name, schema in document["components"]["schemas"].items():
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = ", ".join(
            f"`{field}`" + ("" if field in required else "?") for field in properties
        )
        if "oneOf" in schema:
            fields = " or ".join(
                "{" + ", ".join(f"`{f}`" for f in alt.get("properties", {})) + "}"
                for alt in schema["oneOf"]
            )
        lines.append(f"- `{name}`: {fields or 'any JSON'}")
    return [*lines, ""]


def generated(document: dict[str, Any]) -> str:
    lines = [BEGIN, ""]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            lines += _section(method, path, operation)
    lines += _schemas(document)
    lines.append(END)
    return "\n".join(lines)


def render(document: dict[str, Any]) -> str:
    """docs/api.md with its generated region rewritten (appended when the markers are
    missing)."""
    current = API_FILE.read_text(encoding="utf-8") if API_FILE.exists() else "# API\n\n"
    region = generated(document)
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + region + tail
    return current.rstrip("\n") + "\n\n" + region + "\n"
