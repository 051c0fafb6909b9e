"""The accounts service: sign-up, log-in, sessions, API tokens, password resets, bans and
deletion, over the store's ``accounts`` part. The faces (web pages, JSON API, CLI) call these
functions and only format what they return.

Every secret handed out (session, API token, reset link) is a random token of which the
store keeps only the SHA-256 (``credentials.py``), so a copy of the database opens no
account. Changing or resetting a password ends the account's other sessions and voids its
reset links. A banned account keeps its sessions and tokens (so it is told 403, "banned",
rather than a puzzling "log in"), but cannot log in, post or vote until unbanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from paperstand import mail
from paperstand.accounts import credentials
from paperstand.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from paperstand.models import ApiToken, User
from paperstand.settings import Settings
from paperstand.store import Store

SESSION_PREFIX = "pss_"
API_TOKEN_PREFIX = "pst_"
RESET_PREFIX = "psr_"

# Deliberately loose: one @, no spaces, a dot in the domain. Whether the address works is
# only known by mailing it.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MAX_TOKEN_NAME = 100


def normalise_email(email: str) -> str:
    """``email`` trimmed and lower-cased, or :class:`InvalidInput`."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput("that is not an email address")
    return email


def normalise_name(name: str) -> str:
    """A public user name: 2 to 32 of ``a-z 0-9 _ . -``, starting with a letter or digit;
    lower-cased, so that ``Ada`` and ``ada`` cannot be two people."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise InvalidInput(
            "a user name has 2 to 32 letters, digits, '_', '.' or '-', "
            "and starts with a letter or digit"
        )
    return name


def _name_from_email(email: str) -> str:
    base = re.sub(r"[^a-z0-9_.-]", "", email.partition("@")[0].lower()).lstrip("_.-")[:28]
    return base if len(base) >= 2 else f"user{base}"


@dataclass(frozen=True)
class Session:
    """A log-in: the user and the token for their cookie (shown to nobody else)."""

    user: User
    token: str


class Accounts:
    """Accounts over ``store`` with the limits and links of ``settings``."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.part = store.accounts
        self.settings = settings

    # --- making accounts ----------------------------------------------------------------

    def sign_up(self, email: str, password: str, name: str) -> Session:
        """A new account made by its owner (when ``PAPERSTAND_SIGNUP_OPEN``), logged in."""
        if not self.settings.signup_open:
            raise Forbidden("sign-up is closed here: ask an admin for an account")
        user = self.create(email, password=password, name=name)
        return Session(user, self._start_session(user))

    def create(
        self,
        email: str,
        *,
        password: str | None = None,
        name: str | None = None,
        admin: bool = False,
    ) -> User:
        """A new account. Without a password nobody can log in to it until a reset link
        sets one. Without a name one is made from the email's local part."""
        email = normalise_email(email)
        password_hash = credentials.hash_password(password) if password is not None else None
        if name is not None:
            return self.part.add_user(email, normalise_name(name), password_hash, admin)
        if self.part.user_by_email(email) is not None:
            raise Conflict(f"there is already an account for {email}")
        base = _name_from_email(email)
        for suffix in ["", *map(str, range(2, 100))]:
            if self.part.user_by_name(base + suffix) is None:
                return self.part.add_user(email, base + suffix, password_hash, admin)
        raise Conflict(f"no free user name like {base!r}: give one")

    # --- logging in ---------------------------------------------------------------------

    def log_in(self, email: str, password: str) -> Session:
        """A new session for the account of ``email`` if ``password`` is its password.

        Wrong email and wrong password give the same answer after the same work, so the
        answer does not tell whether an address has an account. A banned account is told
        so (403), but only once the password was right.
        """
        try:
            email = normalise_email(email)
        except InvalidInput:
            email = ""
        found = self.part.user_by_email(email) if email else None
        if found is None:
            credentials.burn_password_time()
            raise Unauthorized("wrong email or password")
        user, stored = found, self.part.password_hash(found.id)
        if stored is None:  # made by an admin, no password yet: answer in the same time
            credentials.burn_password_time()
        if not credentials.verify_password(stored, password):
            raise Unauthorized("wrong email or password")
        if user.banned:
            raise Forbidden("this account is banned")
        if stored is not None and credentials.needs_rehash(stored):
            self.part.set_password(user.id, credentials.hash_password(password))
        return Session(user, self._start_session(user))

    def _start_session(self, user: User) -> str:
        token = credentials.new_token(SESSION_PREFIX)
        seconds = self.settings.session_days * 86400
        self.part.add_session(user.id, credentials.token_digest(token), seconds)
        return token

    def user_for_session(self, token: str) -> User | None:
        """The account of a live session token, None for an unknown or expired one."""
        if not token.startswith(SESSION_PREFIX):
            return None
        return self.part.user_for_session(credentials.token_digest(token))

    def log_out(self, token: str) -> None:
        """End one session (the others of the account go on)."""
        self.part.delete_sessions(digest=credentials.token_digest(token))

    def change_password(self, user: User, old: str, new: str, keep_session: str | None) -> None:
        """Set a new password if ``old`` is the current one; every other session of the
        account ends (``keep_session``, the one asking, goes on) and reset links die."""
        if not credentials.verify_password(self.part.password_hash(user.id), old):
            raise Unauthorized("the current password is wrong")
        self.part.set_password(
            user.id,
            credentials.hash_password(new),
            keep_session=credentials.token_digest(keep_session) if keep_session else None,
        )

    # --- API tokens ---------------------------------------------------------------------

    def new_api_token(self, user: User, name: str) -> tuple[ApiToken, str]:
        """A new personal API token: its listing and the token, shown this once only."""
        name = " ".join(name.split())
        if not name or len(name) > MAX_TOKEN_NAME:
            raise InvalidInput(f"give the token a name of 1 to {MAX_TOKEN_NAME} characters")
        token = credentials.new_token(API_TOKEN_PREFIX)
        return self.part.add_api_token(user.id, name, credentials.token_digest(token)), token

    def api_tokens(self, user: User) -> list[ApiToken]:
        return self.part.api_tokens(user.id)

    def revoke_api_token(self, user: User, token_id: int) -> None:
        if not self.part.delete_api_token(user.id, token_id):
            raise NotFound("no such API token")

    def user_for_api_token(self, token: str) -> User | None:
        """The account of an API token, None for an unknown or revoked one."""
        if not token.startswith(API_TOKEN_PREFIX):
            return None
        return self.part.user_for_api_token(credentials.token_digest(token))

    # --- forgotten passwords ------------------------------------------------------------

    def reset_link(self, email: str) -> str:
        """A new one-use link that sets the password of the account of ``email`` (valid for
        ``PAPERSTAND_RESET_LINK_MINUTES``); :class:`NotFound` without such an account."""
        user = self.part.user_by_email(normalise_email(email))
        if user is None:
            raise NotFound(f"no account for {email.strip()}")
        token = credentials.new_token(RESET_PREFIX)
        seconds = self.settings.reset_link_minutes * 60
        self.part.add_reset(user.id, credentials.token_digest(token), seconds)
        return f"{self.settings.base_url.rstrip('/')}/reset/{quote(token)}"

    def mail_reset_link(self, email: str) -> None:
        """Mail a reset link to ``email`` if it has an account; say nothing either way (the
        page answers the same, so it cannot be used to find who has an account)."""
        try:
            link = self.reset_link(email)
        except (NotFound, InvalidInput):
            return
        minutes = self.settings.reset_link_minutes
        mail.send(
            self.settings,
            normalise_email(email),
            "Your paperstand password",
            "Someone (we hope you) asked to set a new password for this address on "
            f"paperstand.\n\nOpen this link within {minutes} minutes to choose one:\n\n"
            f"{link}\n\nIf it was not you, ignore this message: nothing changes.\n",
        )

    def reset_is_valid(self, token: str) -> bool:
        return self.part.reset_user(credentials.token_digest(token)) is not None

    def reset_password(self, token: str, new: str) -> User:
        """Set the password through a reset link (once: the link dies) and end every
        session of the account."""
        password_hash = credentials.hash_password(new)
        user = self.part.use_reset(credentials.token_digest(token), password_hash)
        if user is None:
            raise NotFound("this link is unknown, used or expired: ask for a new one")
        return user

    # --- admins and owners --------------------------------------------------------------

    def by_email(self, email: str) -> User:
        user = self.part.user_by_email(normalise_email(email))
        if user is None:
            raise NotFound(f"no account for {email.strip()}")
        return user

    def set_banned(self, email: str, banned: bool) -> User:
        """Ban an account (it may read, but whatever needs an account answers 403) or unban."""
        return self.part.set_banned(self.by_email(email).id, banned)

    def delete(self, user: User, password: str | None) -> None:
        """Delete the account and everything it made (sessions, tokens, links, and what other
        areas keep for it: their tables refer to the user with ``ON DELETE CASCADE``). The
        owner confirms with the password; an admin (``password`` None) does not."""
        if password is not None and not credentials.verify_password(
            self.part.password_hash(user.id), password
        ):
            raise Unauthorized("the password is wrong")
        if not self.part.delete_user(user.id):
            raise NotFound("no such account")
