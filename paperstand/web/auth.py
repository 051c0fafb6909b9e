"""Who is asking, and may they: sessions, API tokens, CSRF and rate limits for the web face.

In a handler::

    def upvote(user: RequireUser, ...)      # the User; 401 when anonymous, 403 when banned
    def hide(user: RequireAdmin, ...)       # 403 unless an admin
    def page(viewer: CurrentUser, ...)      # the User or None, never refuses

    @router.post("/api/...", dependencies=[limit("vote")], responses=documented(401, 403, 429))

**Who.** A request with an ``Authorization`` header is judged by it alone: ``Bearer`` and a
personal API token, else 401 (a bad token never falls back to the cookie). Otherwise the
session cookie: a random token signed with the site key (``itsdangerous``, which also bounds
its age), looked up in the store, so logging out really ends it.

**CSRF.** ``asgi-csrf`` (the double-submit cookie of Datasette) checks every request that is
not GET, HEAD, OPTIONS or TRACE and carries cookies: a form sends the ``csrftoken`` hidden
field (``{{ csrf_field() }}`` in a template), a script sends the ``x-csrftoken`` header with
the value of the ``csrftoken`` cookie. Requests with ``Authorization: Bearer`` are exempt
(a browser never adds that header by itself), and so are requests without cookies, which
carry no session to abuse, except log-in and sign-up (no logging a victim in as someone
else). A failed check is a 403.

**Rate limits.** ``limit(name)`` counts the request against the named limits of
``paperstand.ratelimit`` for the signed-in account and the client address; past one, 429
with ``Retry-After``.

**Cookies** are HttpOnly (except ``csrftoken``, which scripts must read), SameSite=Lax, and
Secure when the request came over HTTPS (``X-Forwarded-Proto`` from a trusted proxy counts)
or ``PAPERSTAND_COOKIE_SECURE`` is on.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Annotated, Any

from asgi_csrf import asgi_csrf
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from paperstand import follows
from paperstand.accounts import credentials
from paperstand.accounts.service import Accounts
from paperstand.errors import Forbidden, Unauthorized
from paperstand.models import User
from paperstand.ratelimit import Counting, Limiter
from paperstand.settings import Settings
from paperstand.store import Store

SESSION_COOKIE = "paperstand_session"
CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "csrftoken"
CSRF_HEADER = "x-csrftoken"
# Without cookies there is no session to abuse, except here: log-in CSRF.
ALWAYS_PROTECT = frozenset({"/login", "/signup"})


@dataclass
class Auth:
    """The accounts service, the limiter and the cookie signer of one app."""

    settings: Settings
    accounts: Accounts
    limiter: Limiter
    signer: TimestampSigner
    key: str

    @classmethod
    def build(cls, settings: Settings, store: Store) -> Auth:
        key = credentials.signing_key(settings.secret_key.get_secret_value(), settings.home)
        return cls(
            settings=settings,
            accounts=Accounts(store, settings),
            limiter=Limiter(settings, store),
            signer=TimestampSigner(key, salt="paperstand.session"),
            key=key,
        )

    @property
    def session_seconds(self) -> int:
        return self.settings.session_days * 86400

    def session_token(self, request: Request) -> str | None:
        """The session token of the request's cookie, if its signature and age are good."""
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return None
        try:
            return self.signer.unsign(value, max_age=self.session_seconds).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    def set_session(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.signer.sign(token).decode(),
            max_age=self.session_seconds,
            httponly=True,
            samesite="lax",
            secure=self.settings.cookie_secure,
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")


def auth_of(request: Request) -> Auth:
    return request.app.state.auth


async def _auth(request: Request) -> Auth:
    return auth_of(request)


AuthDep = Annotated[Auth, Depends(_auth)]


def client_address(request: Request) -> str:
    """The client's address (a trusted proxy's ``X-Forwarded-For`` already applied)."""
    return request.client.host if request.client else "unknown"


def user_of(request: Request) -> User | None:
    """The request's user, looked up once per request (then kept on ``request.state``):
    store queries, so call it from a thread of the pool, never on the event loop."""
    if hasattr(request.state, "user"):
        return request.state.user
    auth = auth_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send an API token as 'Authorization: Bearer TOKEN'")
        user = auth.accounts.user_for_api_token(token.strip())
        if user is None:
            raise Unauthorized("unknown or revoked API token")
    else:
        token = auth.session_token(request)
        user = auth.accounts.user_for_session(token) if token else None
    request.state.user = user
    return user


async def _current_user(request: Request) -> User | None:
    # async, so that a request with neither a token nor a session cookie (nothing to look
    # up), or one whose rate-limit dependency looked its user up already, costs no trip to
    # the thread pool; the lookups themselves run there.
    if hasattr(request.state, "user"):
        return request.state.user
    if "authorization" not in request.headers and SESSION_COOKIE not in request.cookies:
        return None
    return await run_in_threadpool(user_of, request)


CurrentUser = Annotated[User | None, Depends(_current_user)]
"""The signed-in user (session cookie or API token), or None."""


def allowed(user: User | None) -> User:
    """``user`` when signed in and not banned; else 401 (nobody) or 403 (banned)."""
    if user is None:
        raise Unauthorized("log in first, or send an API token ('Authorization: Bearer ...')")
    if user.banned:
        raise Forbidden("this account is banned")
    return user


def signed_in(request: Request) -> User:
    """:data:`RequireUser` for a plain ``def`` handler that looks its user up itself, in
    its own thread-pool trip, instead of a dependency's trip of its own before it (the
    busiest calls, votes: one trip per request instead of two). Document 401 and 403."""
    return allowed(user_of(request))


async def _require_user(user: CurrentUser) -> User:
    # async: no I/O here, and a plain def would cost every request a thread-pool trip.
    return allowed(user)


RequireUser = Annotated[User, Depends(_require_user)]
"""The signed-in user, not banned; else 401 (nobody) or 403 (banned)."""


async def _require_admin(user: RequireUser) -> User:
    if not user.is_admin:
        raise Forbidden("only admins may do this")
    return user


RequireAdmin = Annotated[User, Depends(_require_admin)]
"""A signed-in admin; else 401 or 403."""


def limit(name: str) -> Any:
    """A dependency counting the request against the named rate limit (``ratelimit.NAMES``)
    for the signed-in account, if any, and the client address: put it in a route's
    ``dependencies=[...]``; it answers 429 with ``Retry-After`` past the limit."""

    def count(request: Request) -> None:
        # The user is looked up here, in the same trip to the thread pool as the count
        # (route dependencies run before the handler's own, which then find it).
        user = user_of(request)
        account = str(user.id) if user is not None else None
        auth_of(request).limiter.hit(name, account=account, address=client_address(request))

    return Depends(count)


def counting(request: Request, name: str, user: User) -> Counting | None:
    """The named limit's windows for ``user`` and the client address, left for the store
    to count in the transaction of the action they limit (``Limiter.counting``): one
    commit per vote, not two. Past the limit the action raises 429 with ``Retry-After``."""
    return auth_of(request).limiter.counting(
        name, account=str(user.id), address=client_address(request)
    )


def csrf_token(request: Request) -> str:
    """The CSRF token for forms of this response (it also makes the response set the
    ``csrftoken`` cookie when the browser has none yet)."""
    return request.scope[CSRF_FIELD]()


def csrf_field(request: Request) -> Markup:
    """The hidden form field carrying the CSRF token."""
    return Markup(
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">'
    )


def page_header(request: Request) -> tuple[dict[str, Any], Hashable]:
    """What ``base.html`` needs to show who is logged in (``viewer``, ``csrf_field`` for the
    log-out form, ``saved_ids`` for the Save buttons of cards, ``following_count`` for the
    Following link, ``followed`` for Follow buttons), and a key telling apart the pages
    rendered with it: None for visitors without a session, whose pages are all alike. Pages
    are for browsers: the session cookie counts, an API token does not."""
    auth = auth_of(request)
    token = auth.session_token(request)
    viewer = auth.accounts.user_for_session(token) if token else None
    if viewer is None:
        return {"viewer": None, "csrf_field": lambda: csrf_field(request)}, None
    site = request.app.state.site
    csrf = csrf_token(request)
    count = site.following_count(viewer.id)
    key = (viewer.id, viewer.name, viewer.is_admin, csrf, count)
    return {
        "viewer": viewer,
        "csrf_field": lambda: csrf_field(request),
        "following_count": count,
        # The viewer's follow of an author, category or search, for its Follow button.
        "followed": lambda kind, value, filters=None: follows.find(
            site.store, viewer.id, kind, value, filters
        ),
        # The Save buttons of every card show the viewer's saved papers.
        "saved_ids": frozenset(site.store.library.saved(viewer.id)),
    }, key


class SecureCookies:
    """Marks every cookie of a response ``Secure`` when the request came over HTTPS or the
    settings say the site is only served over HTTPS (plain ASGI, like ``SecurityHeaders``)."""

    def __init__(self, app: ASGIApp, always: bool) -> None:
        self.app = app
        self.always = always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.always or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookies = headers.getlist("set-cookie")
                if cookies:
                    del headers["set-cookie"]
                    for cookie in cookies:
                        secure = "secure" in cookie.lower().replace(" ", "").split(";")
                        headers.append("set-cookie", cookie if secure else cookie + "; Secure")
            await send(message)

        await self.app(scope, receive, send_secure)


async def _csrf_failed(scope: Scope, send: Send, message_id: Any) -> None:
    headers = dict(scope.get("headers") or [])
    wants_html = b"text/html" in headers.get(b"accept", b"")
    message = "CSRF check failed: reload the page and try again"
    if wants_html:
        site = scope["app"].state.site
        body = site.page("error.html", status=403, message=message, title="Error 403").encode()
        content_type = b"text/html; charset=utf-8"
    else:
        import orjson

        body = orjson.dumps({"error": message})
        content_type = b"application/json"
    await send(
        {"type": "http.response.start", "status": 403, "headers": [(b"content-type", content_type)]}
    )
    await send({"type": "http.response.body", "body": body})


# Requests asgi-csrf checks nothing on (as Django): they only read.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _signed_cookie(scope: Scope, serializer: URLSafeSerializer, namespace: str) -> str | None:
    """The request's ``csrftoken`` cookie when its signature is good (as asgi-csrf reads it:
    the last ``Cookie`` header)."""
    cookie = dict(scope["headers"]).get(b"cookie")
    token = cookie_parser(cookie.decode("latin-1")).get(CSRF_COOKIE) if cookie else None
    if token is None:
        return None
    try:
        serializer.loads(token, salt=namespace)
    except BadSignature:
        return None
    return token


def _lazy_csrf(app: ASGIApp, signing_secret: str, namespace: str, samesite: str) -> ASGIApp:
    """``app`` with asgi-csrf's token for reads (GET, HEAD, ...), made only when a page
    asks for it (``csrf_token``): the same token, signed the same way, in the same cookie,
    with ``Vary: Cookie`` on the pages that show it. asgi-csrf itself signs a fresh token
    (or checks the cookie's signature) for every request before the page is even chosen,
    though most pages have no form: about 50 µs of CPU a request, for nothing."""
    serializer = URLSafeSerializer(signing_secret)

    async def with_token(scope: Scope, receive: Receive, send: Send) -> None:
        token: str | None = None
        fresh = False

        def get_token() -> str:
            nonlocal token, fresh
            if token is None:
                token = _signed_cookie(scope, serializer, namespace)
                if token is None:
                    token, fresh = serializer.dumps(secrets.token_urlsafe(16), salt=namespace), True
            return token

        async def send_token(message: Message) -> None:
            if message["type"] == "http.response.start" and token is not None:
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Cookie")
                if fresh:
                    headers.append(
                        "set-cookie", f"{CSRF_COOKIE}={token}; Path=/; SameSite={samesite}"
                    )
            await send(message)

        await app({**scope, CSRF_FIELD: get_token}, receive, send_token)

    return with_token


def csrf_unless_api_token(app: ASGIApp, **options: Any) -> ASGIApp:
    """``asgi_csrf`` around ``app`` for requests that may change something; reads get
    their token lazily (:func:`_lazy_csrf`), and script calls of the JSON API (a request
    under ``/api/`` with ``Authorization: Bearer`` and no cookie) none: ``asgi_csrf``
    would let those through unchecked anyway (no cookie, or a bearer token), but only
    after minting a fresh signed token for it, which a script never uses: a tenth of the
    CPU of a vote."""
    checked = asgi_csrf(app, **options)
    reads = _lazy_csrf(
        app, options["signing_secret"], options["signing_namespace"], options["cookie_samesite"]
    )

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["method"] in SAFE_METHODS:
            await reads(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            cookie = bearer = False
            for name, value in scope["headers"]:
                if name == b"cookie":
                    cookie = True
                elif name == b"authorization":
                    bearer = value[:7].lower() == b"bearer "
            if bearer and not cookie:
                await app(scope, receive, send)
                return
        await checked(scope, receive, send)

    return route


def install(app: FastAPI, settings: Settings, store: Store) -> Auth:
    """Put an :class:`Auth` on ``app`` and add the CSRF, secure-cookie and proxy-header
    middleware. Call it before adding middleware that must see CSRF failures too (those
    added later wrap these)."""
    auth = Auth.build(settings, store)
    app.state.auth = auth
    app.add_middleware(
        csrf_unless_api_token,
        signing_secret=auth.key,
        signing_namespace="paperstand.csrf",
        always_protect=ALWAYS_PROTECT,
        cookie_name=CSRF_COOKIE,
        http_header=CSRF_HEADER,
        cookie_samesite="Lax",
        send_csrf_failed=_csrf_failed,
    )
    return auth


def install_outer(app: FastAPI, settings: Settings) -> None:
    """The middleware that must run before everything else: the client's real scheme and
    address from a trusted proxy, then Secure on every cookie over HTTPS."""
    app.add_middleware(SecureCookies, always=settings.cookie_secure)
    proxies = [host.strip() for host in settings.trusted_proxies.split(",") if host.strip()]
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
