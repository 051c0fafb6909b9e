"""Subscribing from the site, double opt-in, preferences and unsubscribing by signed links,
the one-click POST of RFC 8058, and the preview page, through the real app."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from paperstand.digest.sender import DigestSender
from paperstand.digest.subscriptions import CONFIRM, Preferences, Subscriptions
from paperstand.errors import InvalidInput
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.digest.conftest import DAY, settings_for
from tests.smtpserver import Inbox

LINK = re.compile(r"https://papers\.lab\.example(/digest/\w+\?token=[\w.\-]+)")


@pytest.fixture
def site(papers: Store, smtp: tuple[Inbox, int], tmp_path: Path) -> Iterator[tuple]:
    settings = settings_for(tmp_path, smtp[1])
    with TestClient(create_app(settings, papers)) as client:
        yield client, settings, smtp[0]


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.cookies["csrftoken"]


def test_subscribe_from_the_site_and_confirm_by_the_mailed_link(papers: Store, site) -> None:
    client, settings, inbox = site
    csrf = form_token(client, "/digest")
    answer = client.post(
        "/digest",
        data={"csrftoken": csrf, "email": " Ada@Lab.example ", "frequency": "daily",
              "sections": ["daily", "follows"], "categories": "cs.CL, cs.LG",
              "authors": "Zhi Hou\n", "searches": ""},
    )  # fmt: skip
    assert answer.status_code == 200 and "ada@lab.example" in answer.text
    ada = papers.digests.subscriber_by_email("ada@lab.example")
    assert (ada.status, ada.categories, ada.authors) == ("pending", ["cs.CL", "cs.LG"], ["Zhi Hou"])
    assert ada.sections == ["daily", "follows"]

    # Not confirmed: nothing is sent.
    assert DigestSender(papers, settings).send_day(date.fromisoformat(DAY))[0].due == 0
    [confirmation] = inbox.to("ada@lab.example")
    [link] = LINK.findall(confirmation.get_payload(decode=True).decode())
    assert link.startswith("/digest/confirm?token=")
    confirmed = client.get(link)
    assert confirmed.status_code == 200 and "will get the paperstand digest" in confirmed.text
    assert papers.digests.subscriber_by_email("ada@lab.example").status == "confirmed"
    assert client.get(link).status_code == 200  # opening it twice is fine

    # Someone else asking for the same address changes nothing; the owner is mailed the
    # preferences link instead.
    client.post("/digest", data={"csrftoken": csrf, "email": "ada@lab.example",
                                 "frequency": "weekly", "sections": ["trending"]})  # fmt: skip
    assert not papers.digests.subscriber_by_email("ada@lab.example").weekly
    assert (
        "/digest/manage?token=" in inbox.to("ada@lab.example")[-1].get_payload(decode=True).decode()
    )

    sent = DigestSender(papers, settings).send_day(date.fromisoformat(DAY))[0]
    assert sent.sent == 1


def test_bad_expired_and_forged_links_are_refused(papers: Store, site) -> None:
    client, settings, _ = site
    service = Subscriptions(papers, settings)
    bob = service.subscribe("bob@lab.example", Preferences())
    good = service.token(bob, CONFIRM)

    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 49 * 3600

    old = URLSafeTimedSerializer(settings.secret_key.get_secret_value(), signer=Yesterday)
    expired = old.dumps([bob.id, bob.email], salt=CONFIRM)
    with pytest.raises(InvalidInput, match="expired"):
        service.confirm(expired)
    answer = client.get(f"/digest/confirm?token={expired}")
    assert answer.status_code == 400 and "expired" in answer.text
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert client.get(f"/digest/confirm?token={forged}").status_code == 400
    # A confirmation link does not open the preferences page, nor the reverse.
    assert client.get(f"/digest/manage?token={good}").status_code == 400
    other = Subscriptions(papers, Settings(home=settings.home, secret_key="x" * 48))
    assert client.get(f"/digest/confirm?token={other.token(bob, CONFIRM)}").status_code == 400
    assert papers.digests.subscriber_by_email("bob@lab.example").status == "pending"
    assert client.get("/digest/confirm?token=<script>").status_code in (400, 422)


def test_one_click_unsubscribe_from_the_mail_and_the_page(papers: Store, site) -> None:
    client, settings, inbox = site
    service = Subscriptions(papers, settings)
    for who in ("ada", "bob"):
        service.subscribe(f"{who}@lab.example", Preferences(), confirmed=True)
    DigestSender(papers, settings).send_day(date.fromisoformat(DAY))
    [ada_mail] = inbox.to("ada@lab.example")
    [bob_mail] = inbox.to("bob@lab.example")

    # RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click, without cookies.
    url = ada_mail["List-Unsubscribe"].strip("<>").removeprefix("https://papers.lab.example")
    with TestClient(client.app) as provider:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = provider.post(url, content=b"List-Unsubscribe=One-Click", headers=form)
    assert answer.status_code == 200
    assert papers.digests.subscriber_by_email("ada@lab.example").status == "unsubscribed"

    # The page: a link in the mail opens a form; its button (with CSRF) unsubscribes.
    text = bob_mail.get_payload()[0].get_payload(decode=True).decode()
    unsubscribe = [link for link in LINK.findall(text) if "unsubscribe" in link][0]
    page = client.get(unsubscribe)
    assert page.status_code == 200 and "bob@lab.example" in page.text
    assert papers.digests.subscriber_by_email("bob@lab.example").status == "confirmed"
    done = client.post(unsubscribe, data={"csrftoken": client.cookies["csrftoken"]})
    assert done.status_code == 200 and "no more digests" in done.text
    assert papers.digests.subscriber_by_email("bob@lab.example").status == "unsubscribed"

    again = DigestSender(papers, settings).send_day(date(2025, 3, 28))
    assert again[0].due == 0 and len(inbox.messages) == 2


def test_preferences_change_from_the_mailed_link_without_logging_in(papers: Store, site) -> None:
    client, settings, inbox = site
    Subscriptions(papers, settings).subscribe("ada@lab.example", Preferences(), confirmed=True)
    DigestSender(papers, settings).send_day(date.fromisoformat(DAY))
    text = inbox.to("ada@lab.example")[0].get_payload()[0].get_payload(decode=True).decode()
    manage = [link for link in LINK.findall(text) if "manage" in link][0]
    token = manage.split("token=")[1]
    page = client.get(manage)
    assert page.status_code == 200 and "ada@lab.example" in page.text
    saved = client.post("/digest/manage", data={
        "csrftoken": client.cookies["csrftoken"], "token": token, "frequency": "weekly",
        "sections": ["trending"], "authors": "Zhi Hou"})  # fmt: skip
    assert saved.status_code == 200 and "Saved" in saved.text
    ada = papers.digests.subscriber_by_email("ada@lab.example")
    assert (ada.weekly, ada.sections, ada.authors) == (True, ["trending", "follows"], ["Zhi Hou"])
    csrf = client.cookies["csrftoken"]
    bad = client.post(
        "/digest/manage", data={"csrftoken": csrf, "token": token, "categories": "not a category"}
    )
    assert bad.status_code == 400 and "not an arXiv category" in bad.text


def test_preview_in_the_browser(papers: Store, site) -> None:
    client, _, _ = site
    page = client.get(f"/digest/preview?date={DAY}")
    assert page.status_code == 200 and "Dita: Scaling Diffusion Transformer" in page.text
    assert "<style" not in page.text
    assert client.get("/digest/preview?date=2025-13-40").status_code in (400, 422)
    empty = client.get("/digest/preview?date=1999-01-01")
    assert empty.status_code == 200 and "no mail would go out" in empty.text
