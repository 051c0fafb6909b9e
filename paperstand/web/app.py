"""The web face: one FastAPI app serving the pages, the JSON API and the feeds.

``create_app(settings)`` opens the store once; handlers reach it (and the search service,
the cache and the templates) through ``request.app.state.site``. Handlers are plain ``def``
functions: FastAPI runs them in its thread pool, and the SQLite store gives each thread its
own connection.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperstand.errors import PaperstandError, StoreError
from paperstand.settings import Settings
from paperstand.store import Store, open_store
from paperstand.web import render
from paperstand.web.cache import ResponseCache

log = logging.getLogger("paperstand.web")

# KaTeX sets sizes in style attributes, hence style-src-attr; nothing else is inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Search answers also depend on indexes built outside the papers table: keep them briefly.
SEARCH_TTL = 60.0


class SearchUnavailable(PaperstandError):
    http_status = 503


@dataclass
class Site:
    """What every handler needs, built once per app."""

    settings: Settings
    store: Store
    templates: Environment
    cache: ResponseCache = field(default_factory=ResponseCache)
    _searcher: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def respond(
        self,
        request: Request,
        key: Any,
        make: Callable[[], str | bytes],
        media_type: str,
        ttl: float | None = None,
    ) -> Response:
        """The response for ``key`` from the cache, else ``make()`` run in the thread pool
        and kept, with an ETag so a client that has it already gets a 304.

        A hit is answered on the event loop (one tiny query for the data version); only a
        miss pays for a worker thread, where the store queries and rendering happen. Two
        requests missing together both render, cheaper than making readers wait.
        """
        version = self.store.data_version()
        found = self.cache.get(version, key)
        if found is None:
            made = await run_in_threadpool(make)
            body = made.encode() if isinstance(made, str) else made
            etag = f'"{version:x}-{zlib.crc32(body):08x}"'
            self.cache.put(version, key, body, etag, ttl)
        else:
            body, etag = found.body, found.etag
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    def searcher(self) -> Any:
        """The search service, built on first use (it may load indexes and models)."""
        with self._lock:
            if self._searcher is None:
                try:
                    from paperstand.search import Searcher
                except ImportError as exc:
                    raise SearchUnavailable(f"search is not available: {exc}") from exc
                self._searcher = Searcher(self.store, self.settings)
            return self._searcher

    def page(self, template: str, **context: Any) -> str:
        return self.templates.get_template(template).render(**context)


class SecurityHeaders:
    """Adds the Content-Security-Policy and friends to every response (plain ASGI: cheaper
    than a ``BaseHTTPMiddleware``)."""

    HEADERS = (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def site_of(request: Request) -> Site:
    """The app's :class:`Site` from inside a handler."""
    return request.app.state.site


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("paperstand.web", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    render.install(env)
    return env


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.endswith((".md", ".bib", ".xml", ".atom", ".json")):
        return True
    return "text/html" not in request.headers.get("accept", "")


def _error_response(request: Request, status: int, message: str, **more: Any) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message, **more}, status_code=status)
    site: Site | None = getattr(request.app.state, "site", None)
    if site is None:
        return HTMLResponse(f"<p>{status}</p>", status_code=status)
    html = site.page("error.html", status=status, message=message, title=f"Error {status}")
    return HTMLResponse(html, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PaperstandError)
    async def known_error(request: Request, exc: PaperstandError) -> Response:
        return _error_response(request, exc.http_status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
            problems.append((".".join(loc) or "request", error.get("msg", "invalid")))
        message = "; ".join(f"{name}: {msg}" for name, msg in problems)
        return _error_response(request, 422, message, parameter=problems[0][0])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "not found" if exc.status_code == 404 else str(exc.detail)
        return _error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _error_response(request, 500, "internal error (logged on the server)")


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The web app over the store of ``settings`` (or ``store``, which the caller closes)."""
    from paperstand.web import api, pages, syndication

    own_store = store is None
    if store is None:
        if not settings.database_url and not settings.sqlite_path.exists():
            raise StoreError(f"no store at {settings.sqlite_path}: run 'paperstand init' first")
        store = open_store(settings.store_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if own_store:
            store.close()

    app = FastAPI(
        title="paperstand",
        summary="Research papers: daily lists, search, feeds; a Hugging Face-compatible API.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.site = Site(settings=settings, store=store, templates=_templates())

    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app)
    static = resources.files("paperstand.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # Swagger UI 5 (OpenAPI 3.1) as the fastapi-offline package ships it: no CDN.
    docs_assets = resources.files("fastapi_offline") / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(docs_assets)), name="docs-assets")
    app.include_router(api.router)
    app.include_router(syndication.router)
    app.include_router(pages.router)
    return app


def app_from_environment() -> FastAPI:
    """The app with settings read from the environment: the factory that uvicorn imports in
    each worker process when ``paperstand serve --workers N`` runs several."""
    return create_app(Settings())
