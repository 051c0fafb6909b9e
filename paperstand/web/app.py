"""The web face: one FastAPI app serving the pages, the JSON API and the feeds.

``create_app(settings)`` opens the store once and puts a :class:`~paperstand.web.site.Site`
on the app; handlers receive it as a parameter (``site: SiteDep``). This module only
assembles: routers (``api``, ``syndication``, ``pages``) import ``site``, ``params`` and
``errors``, never this module, so nothing here is imported back. Routes do not overlap (see
``params.PAPER_ID``), so the order routers are included in does not matter.

Where things go: a new JSON API router or page router is a module of this package with its
own ``router``, included in ``ROUTERS`` below; its templates go in ``templates/``.
"""

from __future__ import annotations

import gc
import threading
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperstand.errors import StoreError
from paperstand.settings import Settings, load_settings
from paperstand.store import Store, open_store
from paperstand.web import (
    accounts,
    api,
    auth,
    community,
    community_pages,
    digest,
    errors,
    follows,
    lists,
    lists_api,
    openapi,
    pages,
    recs,
    syndication,
    topics,
)
from paperstand.web.site import Site

# Routes do not overlap, so the order only decides how many routes a request is matched
# against first: the JSON API's votes and paper lookups, the busiest, come first.
ROUTERS = (
    community.router,
    api.router,
    syndication.router,
    pages.router,
    accounts.router,
    digest.router,
    topics.router,
    community_pages.router,
    recs.router,
    recs.pages,
    lists.router,
    lists.exports,
    lists_api.router,
    follows.router,
)

TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

# KaTeX sets sizes in style attributes, hence style-src-attr; nothing else is inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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


def create_app(settings: Settings, store: Store | None = None, *, warm: bool = False) -> FastAPI:
    """The web app over the store of ``settings`` (or ``store``, which the caller closes).
    ``warm``: at start, load the search indexes and model in a background thread
    (:meth:`Site.warm`), as a server does; start-up does not wait for it."""
    own_store = store is None
    if store is None:
        if not settings.database_url and not settings.sqlite_path.exists():
            raise StoreError(f"no store at {settings.sqlite_path}: run 'paperstand init' first")
        store = open_store(settings.store_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # What start-up made (routes, templates, the schema, imported modules) lives as
        # long as the app: frozen out of the collector's generations, so the full
        # collections that a large page's many short-lived objects trigger do not scan it
        # again each time. On a quiet machine this took the 2,000-paper list page's p95
        # from 309-387 ms to 89 ms (p50 unchanged): see docs/benchmarks.md.
        gc.collect()
        gc.freeze()
        if warm:
            app.state.warming = threading.Thread(
                target=app.state.site.warm, name="warm", daemon=True
            )
            app.state.warming.start()
        try:
            yield
        finally:
            gc.unfreeze()
            if own_store:
                store.close()

    app = FastAPI(
        title="paperstand",
        summary="Research papers: daily lists, search, feeds; a Hugging Face-compatible API.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # paperstand sets up no OpenTelemetry; left on, FastAPI asks the global tracer,
        # meter and logger providers whether someone else did, on every request (1-2% of
        # a vote's CPU under benchmarks/vote_load.py).
        telemetry=TELEMETRY_OFF,
    )
    app.state.site = Site(settings=settings, store=store)

    # Middleware added later wraps what was added before: the proxy headers are read
    # first, then cookies are marked Secure, then security headers, then the CSRF check.
    auth.install(app, settings, store)
    app.add_middleware(SecurityHeaders)
    auth.install_outer(app, settings)
    errors.install(app, ROUTERS)
    openapi.install(app)
    static = resources.files("paperstand.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # Swagger UI 5 (OpenAPI 3.1) as the fastapi-offline package ships it: no CDN.
    docs_assets = resources.files("fastapi_offline") / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(docs_assets)), name="docs-assets")
    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """The app with settings read from the environment: the factory that uvicorn imports in
    each worker process when ``paperstand serve --workers N`` runs several."""
    return create_app(load_settings(), warm=True)
