"""Every exception paperstand raises on purpose, in one place.

The faces turn these into a one-line CLI message with a non-zero exit, or an HTTP 4xx with a
JSON ``error``. Anything else escaping is a bug. Messages are one line, say what was wrong
and, where it helps, what to do.
"""


class PaperstandError(Exception):
    """Base class: the message is shown to the user as it is."""

    exit_code = 1
    http_status = 400


class InvalidInput(PaperstandError):
    """A value given by the user (date, id, parameter, query) cannot be used."""


class InvalidDate(InvalidInput):
    """A day, week or month that is malformed or does not exist (see ``dates.py``)."""


class NotFound(PaperstandError):
    """The paper, author or other thing asked for is not in this store."""

    http_status = 404


class SourceError(PaperstandError):
    """An input file or remote response cannot be read (malformed, truncated, an error page)."""


class FetchError(SourceError):
    """A remote service could not be reached, or kept failing after retries."""

    http_status = 502


class MalformedRecord(SourceError):
    """One record of a source is unusable; raised instead of skipping it in ``--strict`` mode."""


class Unavailable(PaperstandError):
    """A part of the service cannot answer now (e.g. search without its packages)."""

    http_status = 503


class ModelError(Unavailable):
    """An embedding model's file is missing or is not the file paperstand was made for."""


class StoreError(PaperstandError):
    """The database cannot be opened or reached (bad URL, server down, newer schema)."""

    http_status = 503


class Unauthorized(PaperstandError):
    """No valid session or API token, or a wrong email or password."""

    http_status = 401


class Forbidden(PaperstandError):
    """Known, but not allowed: a banned account, an admin-only action, a failed CSRF check."""

    http_status = 403


class Conflict(PaperstandError):
    """The thing exists already (an email or name taken, a paper submitted twice)."""

    http_status = 409


class RuleBroken(PaperstandError):
    """A well-formed request that a rule of this site refuses (a paper too old to submit, a
    daily quota reached): the message names the rule."""

    http_status = 422


class RateLimited(PaperstandError):
    """Too many requests of one kind from one account or address; try again later."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
