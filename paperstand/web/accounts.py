"""Account pages (sign up, log in, log out, settings, password reset) and the account API
(``/api/me``, ``/api/tokens``).

Pages are forms posted back to themselves: a refused form is shown again with the reason and
the status that says it (401 wrong password, 403 banned or closed, 409 taken, 422 invalid,
429 too many tries); a form that worked redirects (303), with a ``done`` word the next page
turns into a fixed message (no user text travels in the URL). Handlers are plain ``def``:
argon2 takes a third of a CPU-second, which must not stall the event loop.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from paperstand import mail
from paperstand.errors import PaperstandError
from paperstand.models import ApiToken, User
from paperstand.web.auth import (
    Auth,
    AuthDep,
    CurrentUser,
    RequireUser,
    client_address,
    csrf_field,
)
from paperstand.web.errors import documented, headers_for
from paperstand.web.site import Site, SiteDep

router = APIRouter()
log = logging.getLogger("paperstand.web")

DONE = {
    "password": "Your password is changed. Your other sessions were logged out.",
    "reset": "Your password is set: log in with it.",
    "revoked": "The token is revoked: scripts using it now get 401.",
    "deleted": "Your account and everything it made are deleted.",
}

FormText = Annotated[str, Form(max_length=2000)]
FormPassword = Annotated[str, Form(max_length=2000)]


def safe_next(value: str | None) -> str:
    """Where to go after a form: a path on this site only (no ``//host`` or ``/\\host``)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


def _page(
    site: Site, request: Request, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """An account page; never cached anywhere (it may hold a new API token)."""
    html = site.page(
        template,
        csrf_field=lambda: csrf_field(request),
        done=DONE.get(request.query_params.get("done", "")),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _refused(
    site: Site, request: Request, template: str, exc: PaperstandError, **context: Any
) -> HTMLResponse:
    """The form again, with why it was refused and the status (and headers) that say it."""
    response = _page(site, request, template, exc.http_status, problem=str(exc), **context)
    response.headers.update(headers_for(exc) or {})
    return response


def _to(path: str, done: str | None = None) -> RedirectResponse:
    target = f"{path}{'&' if '?' in path else '?'}done={done}" if done else path
    return RedirectResponse(target, status_code=303)


# --- sign up, log in, log out ---------------------------------------------------------------


@router.get("/signup", include_in_schema=False)
def signup_form(request: Request, site: SiteDep, viewer: CurrentUser) -> Response:
    return _page(site, request, "signup.html", title="Sign up", viewer=viewer, email="", name="")


@router.post("/signup", include_in_schema=False)
def signup(
    request: Request,
    site: SiteDep,
    auth: AuthDep,
    email: FormText,
    name: FormText,
    password: FormPassword,
    next: Annotated[str, Form()] = "/",
) -> Response:
    context = {"title": "Sign up", "viewer": None, "email": email, "name": name}
    try:
        auth.limiter.hit("signup", address=client_address(request))
        session = auth.accounts.sign_up(email, password, name)
    except PaperstandError as exc:
        return _refused(site, request, "signup.html", exc, **context)
    response = _to(safe_next(next))
    auth.set_session(response, session.token)
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, site: SiteDep, viewer: CurrentUser) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    return _page(
        site, request, "login.html", title="Log in", viewer=viewer, email="", next=next_path
    )


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    site: SiteDep,
    auth: AuthDep,
    email: FormText,
    password: FormPassword,
    next: Annotated[str, Form()] = "/",
) -> Response:
    context = {"title": "Log in", "viewer": None, "email": email, "next": safe_next(next)}
    try:
        tried = email.strip().lower()[:254]
        auth.limiter.hit("login", account=tried, address=client_address(request))
        session = auth.accounts.log_in(email, password)
    except PaperstandError as exc:
        return _refused(site, request, "login.html", exc, **context)
    response = _to(safe_next(next))
    auth.set_session(response, session.token)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, auth: AuthDep) -> Response:
    token = auth.session_token(request)
    if token:
        auth.accounts.log_out(token)
    response = _to("/")
    auth.clear_session(response)
    return response


# --- settings -------------------------------------------------------------------------------


def _settings_page(
    site: Site, request: Request, auth: Auth, user: User, status: int = 200, **context: Any
) -> HTMLResponse:
    return _page(
        site,
        request,
        "settings.html",
        status,
        title="Settings",
        viewer=user,
        tokens=auth.accounts.api_tokens(user),
        **context,
    )


def _login_first(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


@router.get("/settings", include_in_schema=False)
def settings_page(request: Request, site: SiteDep, auth: AuthDep, viewer: CurrentUser):
    if viewer is None:
        return _login_first(request)
    return _settings_page(site, request, auth, viewer)


@router.post("/settings/password", include_in_schema=False)
def change_password(
    request: Request,
    site: SiteDep,
    auth: AuthDep,
    viewer: CurrentUser,
    current: FormPassword,
    new: FormPassword,
) -> Response:
    if viewer is None:
        return _login_first(request)
    try:
        auth.accounts.change_password(viewer, current, new, auth.session_token(request))
    except PaperstandError as exc:
        return _settings_page(
            site, request, auth, viewer, exc.http_status, password_problem=str(exc)
        )
    return _to("/settings", "password")


@router.post("/settings/tokens", include_in_schema=False)
def new_token(
    request: Request, site: SiteDep, auth: AuthDep, viewer: CurrentUser, name: FormText
) -> Response:
    if viewer is None:
        return _login_first(request)
    try:
        _, secret = auth.accounts.new_api_token(viewer, name)
    except PaperstandError as exc:
        return _settings_page(site, request, auth, viewer, exc.http_status, token_problem=str(exc))
    # Shown in this answer only (no-store), never put in a URL or a redirect.
    return _settings_page(site, request, auth, viewer, new_token=secret)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(
    request: Request,
    site: SiteDep,
    auth: AuthDep,
    viewer: CurrentUser,
    token_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    if viewer is None:
        return _login_first(request)
    try:
        auth.accounts.revoke_api_token(viewer, token_id)
    except PaperstandError as exc:
        return _settings_page(site, request, auth, viewer, exc.http_status, token_problem=str(exc))
    return _to("/settings", "revoked")


@router.post("/settings/delete", include_in_schema=False)
def delete_account(
    request: Request, site: SiteDep, auth: AuthDep, viewer: CurrentUser, password: FormPassword
) -> Response:
    if viewer is None:
        return _login_first(request)
    try:
        auth.accounts.delete(viewer, password)
    except PaperstandError as exc:
        return _settings_page(site, request, auth, viewer, exc.http_status, delete_problem=str(exc))
    response = _to("/login", "deleted")
    auth.clear_session(response)
    return response


# --- forgotten passwords --------------------------------------------------------------------


@router.get("/reset", include_in_schema=False)
def reset_form(request: Request, site: SiteDep, viewer: CurrentUser) -> Response:
    return _page(
        site,
        request,
        "reset.html",
        title="Forgot your password?",
        viewer=viewer,
        mail_ready=mail.configured(site.settings),
        sent=False,
    )


@router.post("/reset", include_in_schema=False)
def reset_request(request: Request, site: SiteDep, auth: AuthDep, email: FormText) -> Response:
    context = {
        "title": "Forgot your password?",
        "viewer": None,
        "mail_ready": mail.configured(site.settings),
    }
    try:
        tried = email.strip().lower()[:254]
        auth.limiter.hit("reset", account=tried, address=client_address(request))
        if context["mail_ready"]:
            auth.accounts.mail_reset_link(email)
    except mail.MailError:
        # Logged for the admins; the visitor sees what they would see for an address
        # without an account, so the page tells nobody which addresses have one.
        log.exception("could not mail a password-reset link")
    except PaperstandError as exc:
        return _refused(site, request, "reset.html", exc, sent=False, **context)
    return _page(site, request, "reset.html", sent=True, **context)


ResetToken = Annotated[str, Path(max_length=100)]


@router.get("/reset/{token}", include_in_schema=False)
def new_password_form(request: Request, site: SiteDep, auth: AuthDep, token: ResetToken):
    context = {"title": "Choose a password", "viewer": None, "token": token}
    if not auth.accounts.reset_is_valid(token):
        problem = "This link is unknown, used or expired: ask for a new one."
        return _page(site, request, "new_password.html", 404, problem=problem, dead=True, **context)
    return _page(site, request, "new_password.html", **context)


@router.post("/reset/{token}", include_in_schema=False)
def new_password(
    request: Request, site: SiteDep, auth: AuthDep, token: ResetToken, password: FormPassword
) -> Response:
    context = {"title": "Choose a password", "viewer": None, "token": token}
    try:
        auth.limiter.hit("reset", address=client_address(request))
        auth.accounts.reset_password(token, password)
    except PaperstandError as exc:
        return _refused(site, request, "new_password.html", exc, **context)
    return _to("/login", "reset")


# --- JSON API -------------------------------------------------------------------------------


class Me(BaseModel):
    id: int
    name: str = Field(description="The public user name.")
    email: str
    is_admin: bool
    banned: bool
    created: str


class TokenListing(BaseModel):
    id: int
    name: str
    created: str
    last_used: str | None = Field(description="Roughly: updated at most once an hour.")


class NewToken(TokenListing):
    token: str = Field(description="The token itself: shown this once, store it now.")


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What the token is for.")


def _listing(token: ApiToken) -> TokenListing:
    return TokenListing(
        id=token.id, name=token.name, created=token.created, last_used=token.last_used
    )


@router.get("/api/me", tags=["Accounts"], responses=documented(401, 403))
def me(user: RequireUser) -> Me:
    """The account of the session or API token."""
    return Me(
        id=user.id,
        name=user.name,
        email=user.email,
        is_admin=user.is_admin,
        banned=user.banned,
        created=user.created,
    )


@router.get("/api/tokens", tags=["Accounts"], responses=documented(401, 403))
def list_tokens(user: RequireUser, auth: AuthDep) -> list[TokenListing]:
    """The account's personal API tokens (never the tokens themselves)."""
    return [_listing(token) for token in auth.accounts.api_tokens(user)]


@router.post("/api/tokens", tags=["Accounts"], status_code=201, responses=documented(401, 403, 422))
def create_token(body: TokenRequest, user: RequireUser, auth: AuthDep) -> NewToken:
    """Make a personal API token; the answer holds the token, shown this once."""
    listing, secret = auth.accounts.new_api_token(user, body.name)
    return NewToken(**_listing(listing).model_dump(), token=secret)


@router.delete(
    "/api/tokens/{token_id}",
    tags=["Accounts"],
    status_code=204,
    responses=documented(401, 403, 404),
)
def delete_token(
    token_id: Annotated[int, Path(ge=1, le=2**62)], user: RequireUser, auth: AuthDep
) -> Response:
    """Revoke one of the account's API tokens: requests with it get 401 from now on."""
    auth.accounts.revoke_api_token(user, token_id)
    return Response(status_code=204)
