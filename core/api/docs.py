"""The OpenAPI document (``/api/v1/openapi.json``) and a server-rendered reference page (``/api/docs``).

Both are public: they describe shapes, never data, and only for the modules that are enabled. The page is
built from the same dict as the document, so the two cannot disagree; no script, no CDN (CSP-friendly).
"""
from __future__ import annotations

from flask import jsonify, render_template

from core.api.blueprint import bp
from core.api.openapi import build_openapi
from core.authz import public

METHODS = ("get", "post", "patch", "put", "delete")


@bp.get("/v1/openapi.json", endpoint="openapi")
@public
def openapi_document():
    return jsonify(build_openapi())


@bp.get("/docs", endpoint="docs")
@public
def docs_page():
    document = build_openapi()
    return render_template("api/docs.html", info=document["info"], sections=operation_sections(document),
                           schemas=schema_tables(document))


def operation_sections(document: dict) -> list[dict]:
    """Operations grouped by tag, in the document's tag order."""
    sections = {tag["name"]: {"name": tag["name"], "description": tag.get("description", ""), "operations": []}
                for tag in document.get("tags", [])}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            section = sections.setdefault(tag, {"name": tag, "description": "", "operations": []})
            section["operations"].append(_operation(document, path, method, operation, shared))
    return [s for s in sections.values() if s["operations"]]


def _operation(document, path, method, operation, shared) -> dict:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return {
        "id": operation.get("operationId", f"{method}-{path}"),
        "method": method.upper(), "path": path, "summary": operation.get("summary", ""),
        "public": operation.get("security") == [],
        "parameters": [_parameter(p) for p in shared + operation.get("parameters", [])],
        "body": ref_name(body.get("$ref")) if body else None,
        "responses": [_response(document, status, answer) for status, answer in operation["responses"].items()],
    }


def _parameter(parameter: dict) -> dict:
    return {"name": parameter["name"], "where": parameter["in"], "required": parameter.get("required", False),
            "type": type_text(parameter.get("schema", {})), "constraints": constraints(parameter.get("schema", {})),
            "description": parameter.get("description", "")}


def _response(document, status, answer) -> dict:
    if "$ref" in answer:
        answer = document["components"]["responses"][ref_name(answer["$ref"])]
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return {"status": status, "description": answer.get("description", ""),
            "schema": ref_name(schema.get("$ref")) if schema.get("$ref") else None}


def schema_tables(document: dict) -> list[dict]:
    tables = []
    for name, schema in document["components"]["schemas"].items():
        required = set(schema.get("required", []))
        rows = [{"name": prop_name, "type": type_text(prop), "ref": ref_name(_item_ref(prop)),
                 "required": prop_name in required, "read_only": prop.get("readOnly", False),
                 "nullable": prop.get("nullable", False), "constraints": constraints(prop),
                 "description": prop.get("description", "")}
                for prop_name, prop in schema.get("properties", {}).items()]
        tables.append({"name": name, "description": schema.get("description", ""), "rows": rows})
    return tables


def ref_name(ref: str | None) -> str | None:
    return ref.rsplit("/", 1)[-1] if ref else None


def _item_ref(prop: dict) -> str | None:
    return prop.get("$ref") or prop.get("items", {}).get("$ref")


def type_text(schema: dict) -> str:
    if "$ref" in schema:
        return ref_name(schema["$ref"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}))}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def constraints(schema: dict) -> str:
    """Validation keywords as short text: ``1–200 chars``, ``one of: a, b``, ``≥ 0``, ``default CNY``."""
    parts = []
    if "enum" in schema:
        parts.append("one of: " + ", ".join("null" if v is None else str(v) for v in schema["enum"]))
    if "minLength" in schema or "maxLength" in schema:
        parts.append(f"{schema.get('minLength', 0)}–{schema.get('maxLength', '∞')} chars")
    if "minimum" in schema:
        parts.append(f"≥ {schema['minimum']}")
    if "maximum" in schema:
        parts.append(f"≤ {schema['maximum']}")
    if "pattern" in schema:
        parts.append(f"pattern {schema['pattern']}")
    if schema.get("default") is not None:
        parts.append(f"default {schema['default']}")
    return "; ".join(parts)
