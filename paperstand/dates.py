"""Days, ISO weeks and months as users and sources write them, parsed in one place.

Every face and source that takes a day (``--since``, ``?date=``, an OAI-PMH ``from``, a
daily-papers day) parses it here, so "2025-1-1", "20250101" and "2025-02-30" are refused
alike, with an :class:`~paperstand.errors.InvalidDate` that names the parameter. The
patterns are exported for the OpenAPI schema, which must describe exactly what is accepted.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from paperstand.errors import InvalidDate

# Year 0000 does not exist in Python's calendar; every other four-digit year does.
_YEAR = r"(?!0000)\d{4}"
DAY_PATTERN = rf"^{_YEAR}-\d{{2}}-\d{{2}}$"
# Week 53 exists only in some years: the pattern promises weeks 1-52, which every year has;
# a real week 53 is accepted too.
WEEK_PATTERN = rf"^{_YEAR}-W(?:0[1-9]|[1-4]\d|5[0-2])$"
MONTH_PATTERN = rf"^{_YEAR}-(?:0[1-9]|1[0-2])$"

_DAY_RE = re.compile(DAY_PATTERN)
_WEEK_RE = re.compile(rf"^({_YEAR})-W(\d{{2}})$")
_MONTH_RE = re.compile(MONTH_PATTERN)


def parse_day(text: str | None, name: str = "date") -> date:
    """``YYYY-MM-DD`` as a date; :class:`InvalidDate` naming the parameter otherwise.

    Stricter than ``date.fromisoformat``, which also takes ``20250101`` and ``2025-W01-1``:
    one spelling per day keeps cache keys and URLs canonical."""
    try:
        if isinstance(text, str) and _DAY_RE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidDate(f"{name}: not a date: {text!r} (use YYYY-MM-DD)")


def parse_week(text: str | None, name: str = "week") -> tuple[date, date]:
    """Monday and Sunday of the ISO week ``YYYY-Www``."""
    match = _WEEK_RE.match(text or "")
    if not match:
        raise InvalidDate(f"{name} must be YYYY-Www (ISO week), got {text!r}")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        return monday, monday + timedelta(days=6)
    except (ValueError, OverflowError):
        raise InvalidDate(f"{name} does not exist: {text!r}") from None


def parse_month(text: str | None, name: str = "month") -> tuple[date, date]:
    """First and last day of the month ``YYYY-MM``."""
    if not _MONTH_RE.match(text or ""):
        raise InvalidDate(f"{name} must be YYYY-MM, got {text!r}")
    year, month = int(text[:4]), int(text[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def week_label(day: date) -> str:
    """The ISO week (``YYYY-Www``) a day falls in."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
