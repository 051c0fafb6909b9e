"""Accounts over real HTTP, on both backends: the forms a browser posts (with their CSRF
tokens), the session cookie, API tokens, bans, rate limits, password resets by mail and
account deletion."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from paperstand.accounts.service import Accounts
from paperstand.models import User
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from paperstand.web.auth import RequireAdmin, RequireUser, limit
from paperstand.web.errors import documented
from tests.mail.test_smtp import Inbox, free_port, smtp_server
from tests.web.conftest import PASSWORD, serving

HTML = {"Accept": "text/html"}

pytestmark = pytest.mark.usefixtures("fast_passwords")


def probe_router() -> APIRouter:
    """Routes as the community features write them: a limited action and an admin one."""
    router = APIRouter()

    @router.post(
        "/api/probe/vote", dependencies=[limit("vote")], responses=documented(401, 403, 429)
    )
    def vote(user: RequireUser) -> dict[str, Any]:
        return {"voted_by": user.name}

    @router.post("/api/probe/hide", responses=documented(401, 403))
    def hide(user: RequireAdmin) -> dict[str, Any]:
        return {"hidden_by": user.name}

    return router


class Site:
    """The app over one store, served on loopback, and what a test needs to poke at it."""

    def __init__(self, url: str, store: Store, settings: Settings) -> None:
        self.url = url
        self.store = store
        self.accounts = Accounts(store, settings)

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=HTML, follow_redirects=False, timeout=30)

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def count(self, table: str, user: User) -> int:
        column = "id" if table == "users" else "user_id"
        with self.store.engine.connect() as conn:
            return conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": user.id}
            ).scalar()


def start(store: Store, tmp_path: Path, **more: Any) -> Iterator[Site]:
    settings = Settings(
        home=tmp_path,
        rate_login="3/minute",
        rate_login_ip="100/minute",
        rate_vote="2/minute",
        rate_vote_ip="100/minute",
        **more,
    )
    app = create_app(settings, store)
    app.include_router(probe_router())
    with serving(app) as url:
        yield Site(url, store, settings)


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[Site]:
    yield from start(store, tmp_path, base_url="http://papers.lab.example")


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def post_form(client: httpx.Client, path: str, form_page: str, **fields: str) -> httpx.Response:
    """GET ``form_page`` (which sets the CSRF cookie), then POST its form with the token."""
    token = csrf_of(client.get(form_page))
    return client.post(path, data={"csrftoken": token, **fields})


def sign_up(client: httpx.Client, email: str, name: str) -> httpx.Response:
    return post_form(client, "/signup", "/signup", email=email, name=name, password=PASSWORD)


def test_sign_up_log_out_log_in(site: Site) -> None:
    with site.browser() as browser:
        done = sign_up(browser, "ada@lab.example", "ada")
        assert done.status_code == 303 and done.headers["location"] == "/"
        cookie = next(c for c in done.headers.get_list("set-cookie") if "paperstand_session" in c)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        me = browser.get("/api/me").json()
        assert (me["name"], me["email"], me["is_admin"]) == ("ada", "ada@lab.example", False)

        page = browser.get("/")
        assert "ada" in page.text and 'action="/logout"' in page.text
        out = browser.post("/logout", data={"csrftoken": csrf_of(page)})
        assert out.status_code == 303
        assert browser.get("/api/me").status_code == 401

        back = post_form(browser, "/login", "/login", email="ADA@lab.example", password=PASSWORD)
        assert back.status_code == 303
        assert browser.get("/api/me").json()["name"] == "ada"


def test_csrf_is_required(site: Site) -> None:
    with site.browser() as browser:
        sign_up(browser, "ada@lab.example", "ada")
        # A form posted without the token (what another site's form would send): refused,
        # and the session goes on.
        refused = browser.post("/logout", data={})
        assert refused.status_code == 403 and "CSRF" in refused.text
        forged = browser.post("/logout", data={"csrftoken": "forged"})
        assert forged.status_code == 403
        assert browser.get("/api/me").status_code == 200
        # The same forms as multipart/form-data (what a form with a file field sends): the
        # token is found in the parts, and a forged one is refused, not a server error.
        page = browser.get("/")
        parts = {"csrftoken": (None, "forged")}
        assert browser.post("/logout", files=parts).status_code == 403
        parts = {"csrftoken": (None, csrf_of(page)), "note": ("note.txt", b"x", "text/plain")}
        assert browser.post("/logout", files=parts).status_code == 303
        assert browser.get("/api/me").status_code == 401
        back = post_form(browser, "/login", "/login", email="ada@lab.example", password=PASSWORD)
        assert back.status_code == 303
        # A script's JSON request: the header, copied from the cookie, passes.
        body = {"name": "from a script"}
        no_header = browser.post("/api/tokens", json=body, headers={"Accept": "*/*"})
        assert no_header.status_code == 403
        assert no_header.json() == {"error": "CSRF check failed: reload the page and try again"}
        token = browser.cookies["csrftoken"]
        made = browser.post("/api/tokens", json=body, headers={"x-csrftoken": token})
        assert made.status_code == 201, made.text
    # Log-in and sign-up are protected even without cookies (no logging in as someone else).
    with site.browser() as stranger:
        refused = stranger.post("/login", data={"email": "ada@lab.example", "password": PASSWORD})
        assert refused.status_code == 403
    # A Bearer token needs no CSRF token.
    _, secret = site.accounts.new_api_token(site.accounts.by_email("ada@lab.example"), "s")
    with site.api(secret) as script:
        assert script.post("/api/tokens", json={"name": "another"}).status_code == 201


def test_only_pages_with_a_form_set_the_csrf_cookie(site: Site) -> None:
    with site.browser() as browser:
        # No form on a list page for an anonymous visitor: no token signed, no cookie.
        plain = browser.get("/")
        assert plain.status_code == 200 and "csrftoken" not in browser.cookies
        assert "set-cookie" not in plain.headers and "Cookie" not in plain.headers.get("vary", "")
        # The log-in form: a signed token, in the cookie and the form, varying by cookie.
        form = browser.get("/login")
        token = browser.cookies["csrftoken"]
        assert csrf_of(form) == token and "Cookie" in form.headers["vary"]
        # The next form reuses it, and a post with it passes the check.
        again = browser.get("/signup")
        assert csrf_of(again) == token and "set-cookie" not in again.headers
        assert sign_up(browser, "ada@lab.example", "ada").status_code == 303
        assert browser.cookies["csrftoken"] == token
    with site.browser() as forger:
        # A cookie not signed by the site is replaced, and never accepted.
        forged = {"Cookie": "csrftoken=forged"}
        form = forger.get("/login", headers=forged)
        assert csrf_of(form) != "forged"
        assert form.headers["set-cookie"].startswith(f"csrftoken={csrf_of(form)};")
        data = {"csrftoken": "forged", "email": "ada@lab.example", "password": PASSWORD}
        assert forger.post("/login", data=data, headers=forged).status_code == 403


def test_wrong_password(site: Site) -> None:
    site.accounts.create("ada@lab.example", password=PASSWORD)
    with site.browser() as browser:
        wrong = post_form(browser, "/login", "/login", email="ada@lab.example", password="nope!!!!")
        assert wrong.status_code == 401
        assert "wrong email or password" in wrong.text
        assert 'value="ada@lab.example"' in wrong.text  # the form keeps what was typed
        assert "paperstand_session" not in browser.cookies
        unknown = post_form(
            browser, "/login", "/login", email="bo@lab.example", password="nope!!!!"
        )
        assert unknown.status_code == 401
        assert browser.get("/api/me").status_code == 401


def test_log_in_rate_limit(site: Site) -> None:
    site.accounts.create("ada@lab.example", password=PASSWORD)
    with site.browser() as browser:
        for _ in range(3):
            tried = post_form(
                browser, "/login", "/login", email="ada@lab.example", password="x" * 8
            )
            assert tried.status_code == 401
        # Even the right password waits now: that is what stops guessing.
        limited = post_form(browser, "/login", "/login", email="ada@lab.example", password=PASSWORD)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "too many log-in attempts" in limited.text


def test_named_limit_for_api_routes(site: Site) -> None:
    user = site.accounts.create("ada@lab.example", password=PASSWORD)
    _, secret = site.accounts.new_api_token(user, "votes")
    with site.api(secret) as script:
        assert script.post("/api/probe/vote").json() == {"voted_by": "ada"}
        assert script.post("/api/probe/vote").status_code == 200
        limited = script.post("/api/probe/vote")
        assert limited.status_code == 429
        assert limited.json()["error"].startswith("too many votes")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
    with site.api() as anonymous:
        refused = anonymous.post("/api/probe/vote")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_banned_user_gets_403(site: Site) -> None:
    with site.browser() as browser:
        sign_up(browser, "ada@lab.example", "ada")
        _, secret = site.accounts.new_api_token(site.accounts.by_email("ada@lab.example"), "s")
        site.accounts.set_banned("ada@lab.example", True)
        assert browser.get("/api/me").status_code == 403
        with site.api(secret) as script:
            refused = script.post("/api/probe/vote")
            assert refused.status_code == 403 and refused.json() == {
                "error": "this account is banned"
            }
        login = post_form(browser, "/login", "/login", email="ada@lab.example", password=PASSWORD)
        assert login.status_code == 403
        site.accounts.set_banned("ada@lab.example", False)
        assert browser.get("/api/me").status_code == 200


def test_admin_only(site: Site) -> None:
    user = site.accounts.create("ada@lab.example", password=PASSWORD)
    admin = site.accounts.create("root@lab.example", password=PASSWORD, admin=True)
    _, user_token = site.accounts.new_api_token(user, "s")
    _, admin_token = site.accounts.new_api_token(admin, "s")
    with site.api(user_token) as script:
        assert script.post("/api/probe/hide").status_code == 403
    with site.api(admin_token) as script:
        assert script.post("/api/probe/hide").json() == {"hidden_by": "root"}


def test_api_tokens_listed_and_revoked(site: Site) -> None:
    with site.browser() as browser:
        sign_up(browser, "ada@lab.example", "ada")
        page = browser.get("/settings")
        made = browser.post(
            "/settings/tokens", data={"csrftoken": csrf_of(page), "name": "nightly <script>"}
        )
        assert made.status_code == 200
        secret = re.search(r'id="new-token">(pst_[^<]+)<', made.text).group(1)
        assert "nightly &lt;script&gt;" in made.text
        assert browser.get("/settings").text.count("pst_") == 0  # shown once only
        with site.api(secret) as script:
            assert script.get("/api/me").json()["name"] == "ada"
            [listed] = script.get("/api/tokens").json()
            assert listed["name"] == "nightly <script>" and listed["last_used"]
            revoke = browser.post(
                f"/settings/tokens/{listed['id']}/revoke",
                data={"csrftoken": csrf_of(browser.get("/settings"))},
            )
            assert revoke.status_code == 303
            gone = script.get("/api/me")
            assert gone.status_code == 401
            assert gone.json() == {"error": "unknown or revoked API token"}
    with site.api("pst_forged") as forged:
        assert forged.get("/api/me").status_code == 401
    with site.api() as odd:
        assert odd.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_delete_token_over_the_api(site: Site) -> None:
    user = site.accounts.create("ada@lab.example", password=PASSWORD)
    _, secret = site.accounts.new_api_token(user, "one")
    with site.api(secret) as script:
        made = script.post("/api/tokens", json={"name": "two"}).json()
        assert made["token"].startswith("pst_")
        assert script.delete(f"/api/tokens/{made['id']}").status_code == 204
        assert script.delete(f"/api/tokens/{made['id']}").status_code == 404
        assert script.post("/api/tokens", json={"name": ""}).status_code == 422


def test_change_password(site: Site) -> None:
    with site.browser() as browser, site.browser() as other:
        sign_up(browser, "ada@lab.example", "ada")
        post_form(other, "/login", "/login", email="ada@lab.example", password=PASSWORD)
        wrong = post_form(
            browser, "/settings/password", "/settings", current="nope!!!!", new="battery staple"
        )
        assert wrong.status_code == 401 and "current password is wrong" in wrong.text
        done = post_form(
            browser, "/settings/password", "/settings", current=PASSWORD, new="battery staple"
        )
        assert done.status_code == 303
        assert browser.get("/api/me").status_code == 200
        assert other.get("/api/me").status_code == 401  # the other session ended


def test_reset_link_works_once_and_expires(site: Site) -> None:
    site.accounts.create("ada@lab.example")  # made by an admin, no password yet
    link = site.accounts.reset_link("ada@lab.example")
    path = link.removeprefix("http://papers.lab.example")
    with site.browser() as browser:
        assert browser.get(path).status_code == 200
        done = post_form(browser, path, path, password="battery staple")
        assert done.status_code == 303 and done.headers["location"] == "/login?done=reset"
        again = browser.get(path)
        assert again.status_code == 404 and "used or expired" in again.text
        token = csrf_of(browser.get("/login"))
        reused = browser.post(path, data={"csrftoken": token, "password": "another one"})
        assert reused.status_code == 404
        login = post_form(
            browser, "/login", "/login", email="ada@lab.example", password="battery staple"
        )
        assert login.status_code == 303

    expiring = site.accounts.reset_link("ada@lab.example").removeprefix("http://papers.lab.example")
    with site.store.engine.begin() as conn:
        if site.store.engine.dialect.name == "sqlite":
            conn.execute(text("UPDATE password_resets SET expires = '2000-01-01T00:00:00.000Z'"))
        else:
            conn.execute(text("UPDATE password_resets SET expires = now() - interval '1 second'"))
    with site.browser() as browser:
        assert browser.get(expiring).status_code == 404


def test_reset_by_mail(store: Store, tmp_path: Path) -> None:
    inbox = Inbox()
    controller, port = smtp_server(inbox)
    try:
        mail = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "mail_from": "paperstand@lab.example",
        }
        for site in start(store, tmp_path, **mail):
            site.accounts.create("ada@lab.example", password=PASSWORD)
            with site.browser() as browser:
                for email in ("ada@lab.example", "nobody@lab.example"):
                    sent = post_form(browser, "/reset", "/reset", email=email)
                    assert sent.status_code == 200 and "on its way" in sent.text
                [message] = inbox.messages  # nothing for an address without an account
                assert message["To"] == "ada@lab.example"
                body = message.get_payload(decode=True).decode()
                link = re.search(r"http://127\.0\.0\.1:8000(/reset/\S+)", body).group(1)
                done = post_form(browser, link, link, password="battery staple")
                assert done.status_code == 303
    finally:
        controller.stop()


def test_reset_without_mail_says_whom_to_ask(site: Site) -> None:
    with site.browser() as browser:
        page = browser.get("/reset")
        assert "paperstand user reset-link" in page.text and 'action="/reset"' not in page.text


def test_delete_account_removes_its_data(site: Site) -> None:
    with site.browser() as browser:
        sign_up(browser, "ada@lab.example", "ada")
        ada = site.accounts.by_email("ada@lab.example")
        site.accounts.new_api_token(ada, "s")
        site.accounts.reset_link("ada@lab.example")
        assert [
            site.count(t, ada) for t in ("users", "sessions", "api_tokens", "password_resets")
        ] == [1, 1, 1, 1]
        wrong = post_form(browser, "/settings/delete", "/settings", password="nope!!!!")
        assert wrong.status_code == 401
        done = post_form(browser, "/settings/delete", "/settings", password=PASSWORD)
        assert done.status_code == 303
        assert [
            site.count(t, ada) for t in ("users", "sessions", "api_tokens", "password_resets")
        ] == [0, 0, 0, 0]
        assert browser.get("/api/me").status_code == 401
        assert browser.get("/settings").headers["location"] == "/login?next=/settings"


def test_cookies_are_secure_over_https_from_a_trusted_proxy(store: Store, tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", **HTML}
    for trusted, secure in (("127.0.0.1", True), ("", False)):
        for site in start(store, tmp_path, trusted_proxies=trusted):
            # The client speaks plain HTTP to the "proxy" side: send the cookie by hand, as a
            # browser speaking HTTPS to the proxy would.
            with httpx.Client(base_url=site.url, timeout=30) as client:
                page = client.get("/signup", headers=https)
                assert ("Secure" in page.headers["set-cookie"]) is secure
                csrf = page.headers["set-cookie"].split(";")[0]
                done = client.post(
                    "/signup",
                    headers={**https, "Cookie": csrf},
                    data={
                        "csrftoken": csrf_of(page),
                        "email": f"{trusted or 'none'}@lab.example",
                        "name": f"user{len(trusted)}",
                        "password": PASSWORD,
                    },
                )
                assert done.status_code == 303
                assert ("Secure" in done.headers["set-cookie"]) is secure


def test_openapi_documents_the_errors(site: Site) -> None:
    with site.api() as client:
        schema = client.get("/openapi.json").json()
    me = schema["paths"]["/api/me"]["get"]["responses"]
    assert {"401", "403"} <= set(me)
    vote = schema["paths"]["/api/probe/vote"]["post"]["responses"]
    assert "Retry-After" in vote["429"]["headers"]
    assert vote["401"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")


def test_a_wrong_method_lists_every_method_of_the_path(site: Site) -> None:
    with site.api() as client:
        wrong = client.put("/api/tokens")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, POST"


def test_reset_with_mail_down_tells_nothing(store: Store, tmp_path: Path, caplog) -> None:
    mail = {"smtp_host": "127.0.0.1", "smtp_port": free_port(), "mail_from": "ps@lab.example"}
    for site in start(store, tmp_path, smtp_security="none", **mail):
        site.accounts.create("ada@lab.example", password=PASSWORD)
        with site.browser() as browser:
            for email in ("ada@lab.example", "nobody@lab.example"):
                sent = post_form(browser, "/reset", "/reset", email=email)
                assert sent.status_code == 200 and "on its way" in sent.text
    assert "could not mail a password-reset link" in caplog.text
