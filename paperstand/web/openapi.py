"""The OpenAPI schema as published at ``/openapi.json``: FastAPI's, made exact.

Two things FastAPI writes are not what this API does, so they are rewritten once, when the
schema is first asked for:

- an optional query parameter is typed "string or null", but a query string cannot carry a
  null: an absent parameter is the default. Its schema becomes the non-null one, with the
  pattern and format of the parameter kept on it;
- a 422 is documented with FastAPI's ``HTTPValidationError`` body, where this API answers
  ``{"error": ..., "parameter": ...}`` (``web/errors.py``) like every other error;
- an operation with a body answers 400 when the body is not JSON at all, which FastAPI
  does not document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from paperstand.web.errors import ErrorBody, documented

_NULL = {"type": "null"}


def install(app: FastAPI) -> None:
    """Serve the exact schema from ``app.openapi()`` (and so ``/openapi.json``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            exact(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def exact(schema: dict[str, Any]) -> None:
    """Rewrite FastAPI's ``schema`` in place (see the module's docstring)."""
    error = documented(422)[422]
    ref = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _not_null(parameter["schema"])
            if "requestBody" in operation and "400" not in operation["responses"]:
                # A body that is not JSON at all is refused before validation, with a 400.
                operation["responses"]["400"] = {
                    "description": documented(400)[400]["description"],
                    "content": {"application/json": {"schema": ref}},
                }
            if "422" in operation.get("responses", {}):
                operation["responses"]["422"] = {
                    "description": error["description"],
                    "content": {"application/json": {"schema": ref}},
                }
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    variants = schema.get("anyOf")
    if not variants or _NULL not in variants:
        return schema
    others = [variant for variant in variants if variant != _NULL]
    outer = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(others) != 1:
        return {**outer, "anyOf": others}
    return {**outer, **others[0]}
