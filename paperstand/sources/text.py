"""Small text clean-ups every source applies the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime


def squash(text: str | None) -> str:
    """Collapse the hard line-wrapping arXiv and Hugging Face leave in titles and abstracts."""
    if not text:
        return ""
    # Most values (every author name, most titles) need nothing: checking that is cheaper
    # than splitting and joining them. Every whitespace character but the space is
    # unprintable, so a printable text without double, leading or trailing spaces is
    # already squashed. str.split() is several times faster than a regex for the rest.
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text
    return " ".join(text.split())


def optional(text: str | None) -> str | None:
    """``squash`` that keeps "nothing" as None rather than an empty string."""
    squashed = squash(text)
    return squashed or None


def iso_timestamp(value: str | None) -> str | None:
    """An ISO 8601 or RFC 2822 date/time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), a bare date as
    ``YYYY-MM-DD``; None for None. Raises ValueError on anything else."""
    if not value:
        return None
    value = value.strip()
    if len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value).isoformat()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a date: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_of(value: str | None) -> str | None:
    """The ``YYYY-MM-DD`` day of an ISO timestamp."""
    return value[:10] if value else None
