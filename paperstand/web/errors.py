"""How the web face answers errors: ``{"error": "..."}`` with a 4xx for the API and feeds,
an HTML error page for a browser, and the same statuses documented in the OpenAPI schema.

Every exception of ``paperstand.errors`` carries its HTTP status. Parameter validation is
422 with the parameter named; unknown paths 404; a known path with another method 405 with
``Allow``. Anything else is a bug: logged, and a 500 without details.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperstand.errors import PaperstandError, RateLimited, Unauthorized

log = logging.getLogger("paperstand.web")


class ErrorBody(BaseModel):
    """What every error answer of the API holds."""

    error: str = Field(description="What was wrong, in one line.")
    parameter: str | None = Field(None, description="The parameter at fault (422 only).")


_MEANING = {
    400: "A day, week or month that does not exist, parameters that contradict each other, "
    "or a body that is not valid JSON.",
    401: "No valid session or API token (send 'Authorization: Bearer TOKEN').",
    403: "Not allowed: a banned account, an admin-only action, or a failed CSRF check.",
    404: "No such paper in this store (or no such path).",
    409: "It exists already.",
    422: "A parameter out of its bounds or not of its pattern.",
    429: "Too many requests of this kind from this account or address: wait Retry-After.",
    503: "The service cannot answer now (e.g. the database is down).",
}


_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {
        "Retry-After": {
            "description": "Seconds until the limit frees up.",
            "schema": {"type": "integer"},
        }
    },
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route answering ``statuses`` with :class:`ErrorBody` (and the
    headers that come with 401 and 429): pass it every error status the route can answer,
    for the schema to tell the truth."""
    return {
        status: {
            "model": ErrorBody,
            "description": _MEANING.get(status) or HTTPStatus(status).phrase,
        }
        | ({"headers": _HEADERS[status]} if status in _HEADERS else {})
        for status in statuses
    }


def headers_for(exc: PaperstandError) -> dict[str, str] | None:
    """What an error's answer must carry besides its body: when to try again after a rate
    limit, how to authenticate after a 401."""
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    return None


def wants_json(request: Request) -> bool:
    """True when the error should be JSON: a route of the API (in the schema), a path of a
    machine-readable kind, or a client that did not ask for HTML."""
    route = request.scope.get("route")
    if route is not None and getattr(route, "include_in_schema", False):
        return True
    path = request.url.path
    if path.startswith("/api/") or path.endswith((".md", ".bib", ".xml", ".atom", ".json")):
        return True
    return "text/html" not in request.headers.get("accept", "")


def error_response(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    **more: Any,
) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message, **more}, status_code=status, headers=headers)
    site = getattr(request.app.state, "site", None)
    if site is None:
        return HTMLResponse(f"<p>{status}</p>", status_code=status, headers=headers)
    html = site.page("error.html", status=status, message=message, title=f"Error {status}")
    return HTMLResponse(html, status_code=status, headers=headers)


def _allowed(routers: Sequence[APIRouter], path: str) -> str:
    """The methods some route of ``routers`` answers on ``path``, for a 405's ``Allow``
    (Starlette names only those of the first route matching the path)."""
    methods: set[str] = set()
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path_regex.match(path):
                methods |= route.methods
    return ", ".join(sorted(methods))


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Register the handlers that turn exceptions into these answers; ``routers`` are the
    app's, whose methods a 405 lists."""

    @app.exception_handler(PaperstandError)
    async def known_error(request: Request, exc: PaperstandError) -> Response:
        return error_response(request, exc.http_status, str(exc), headers=headers_for(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
            problems.append((".".join(loc) or "request", error.get("msg", "invalid")))
        message = "; ".join(f"{name}: {msg}" for name, msg in problems)
        return error_response(request, 422, message, parameter=problems[0][0])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "not found" if exc.status_code == 404 else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # clients are owed every method the path allows
            headers["Allow"] = _allowed(routers, request.url.path) or headers.get("Allow", "")
        return error_response(request, exc.status_code, message, headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "internal error (logged on the server)")
