"""Mail goes through a real SMTP server (aiosmtpd on a loopback port), plain, STARTTLS and
implicit TLS, with and without a login; failures are one-line :class:`MailError`\\ s."""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from paperstand import mail
from paperstand.errors import InvalidInput
from paperstand.mail.digest import text_part
from paperstand.settings import Settings
from tests.smtpserver import Inbox, free_port, smtp_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


def settings_for(port: int, security: str, **more: Any) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        mail_from="paperstand@lab.example",
        **more,
    )


def test_plain_smtp_delivers_the_message(inbox: Inbox) -> None:
    controller, port = smtp_server(inbox)
    try:
        mail.send(settings_for(port, "none"), "ada@lab.example", "Hello Ada", "Line one\nüñí")
    finally:
        controller.stop()
    [message] = inbox.messages
    assert message["From"] == "paperstand@lab.example"
    assert message["To"] == "ada@lab.example"
    assert message["Subject"] == "Hello Ada"
    assert message["Message-ID"].endswith("@lab.example>")
    assert message.get_payload(decode=True).decode().splitlines() == ["Line one", "üñí"]
    assert inbox.envelopes[0].rcpt_tos == ["ada@lab.example"]


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server-side TLS context, its certificate trusted by the client's default context."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_starttls_with_login(inbox: Inbox, trusted: ssl.SSLContext) -> None:
    controller, port = smtp_server(
        inbox, tls_context=trusted, require_starttls=True, authenticator=check_login
    )
    try:
        conf = settings_for(port, "starttls", smtp_user="bot", smtp_password="s3cret")
        mail.send(conf, "bo@lab.example", "Reset", "link")
        wrong = settings_for(port, "starttls", smtp_user="bot", smtp_password="nope")
        with pytest.raises(mail.MailError, match=f"127.0.0.1:{port}"):
            mail.send(wrong, "bo@lab.example", "Reset", "link")
    finally:
        controller.stop()
    assert [m["Subject"] for m in inbox.messages] == ["Reset"]


def test_implicit_tls(inbox: Inbox, trusted: ssl.SSLContext) -> None:
    controller, port = smtp_server(inbox, ssl_context=trusted)
    try:
        mail.send(settings_for(port, "tls"), "cy@lab.example", "Digest", "papers")
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == ["cy@lab.example"]


def test_untrusted_certificate_is_refused(
    inbox: Inbox, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(Path(ssl.get_default_verify_paths().cafile or "")))
    controller, port = smtp_server(inbox, tls_context=context, require_starttls=True)
    try:
        with pytest.raises(mail.MailError, match="certificate"):
            mail.send(settings_for(port, "starttls"), "x@lab.example", "s", "t")
    finally:
        controller.stop()
    assert inbox.messages == []


def test_server_down_and_not_configured() -> None:
    with pytest.raises(mail.MailError, match="could not send mail"):
        mail.send(settings_for(free_port(), "none"), "x@lab.example", "s", "t")
    assert not mail.configured(Settings())
    with pytest.raises(mail.MailError, match="not configured"):
        mail.send(Settings(), "x@lab.example", "s", "t")


def test_header_injection_is_refused() -> None:
    with pytest.raises(InvalidInput):
        mail.send(
            settings_for(free_port(), "none"), "x@lab.example\r\nBcc: all@x.example", "s", "t"
        )


def test_long_utf8_lines_go_8bit_or_are_reencoded_for_a_7bit_server(inbox: Inbox) -> None:
    """Digest parts are 8-bit with lines up to 998 octets; a server that does not offer
    8BITMIME (aiosmtpd decoding data as text offers none) gets the same message in 7-bit."""
    text = "Überblick " + " ".join(["wörd"] * 400)  # one line of about 2,800 octets
    part = text_part("plain", text)
    data = (
        "From: paperstand@lab.example\r\nTo: ada@lab.example\r\nSubject: x\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n'
        f"\r\n--b\r\n{part}\r\n--b--\r\n"
    ).encode()
    assert "Content-Transfer-Encoding: 8bit" in part
    assert max(len(line.encode()) for line in part.split("\r\n")) <= 998
    for options, eight_bit in (({}, True), ({"decode_data": True}, False)):
        received = Inbox()
        controller, port = smtp_server(received, **options)
        try:
            with mail.Mailer(settings_for(port, "none")) as mailer:
                mailer.send_bytes("ada@lab.example", data)
        finally:
            controller.stop()
        [envelope] = received.envelopes
        assert ("BODY=8BITMIME" in envelope.mail_options) == eight_bit
        raw = envelope.original_content
        assert eight_bit or all(byte < 128 for byte in raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        [plain] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        assert " ".join(plain.get_content().split()) == text
