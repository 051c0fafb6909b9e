"""The one parser of days, ISO weeks and months (``paperstand/dates.py``)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from paperstand import dates
from paperstand.errors import InvalidDate, InvalidInput


def test_days_weeks_and_months_parse_to_their_bounds():
    assert dates.parse_day("2024-02-29") == date(2024, 2, 29)
    assert dates.parse_week("2025-W13") == (date(2025, 3, 24), date(2025, 3, 30))
    assert dates.parse_week("2026-W01") == (date(2025, 12, 29), date(2026, 1, 4))
    assert dates.parse_week("2026-W53") == (date(2026, 12, 28), date(2027, 1, 3))
    assert dates.parse_month("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert dates.parse_month("2025-12") == (date(2025, 12, 1), date(2025, 12, 31))
    assert dates.parse_month("9999-12") == (date(9999, 12, 1), date(9999, 12, 31))
    assert dates.week_label(date(2025, 12, 29)) == "2026-W01"


@pytest.mark.parametrize(
    ("text", "parse"),
    [
        ("2025-02-29", dates.parse_day),
        ("25-01-01", dates.parse_day),
        ("2025-1-1", dates.parse_day),
        ("20250101", dates.parse_day),  # date.fromisoformat would take it
        ("2025-W01-1", dates.parse_day),
        (" 2025-01-01", dates.parse_day),
        ("0000-01-01", dates.parse_day),
        ("2025-01-01\x00", dates.parse_day),
        (None, dates.parse_day),
        ("2025-W54", dates.parse_week),
        ("2025-W53", dates.parse_week),  # 2025 has 52 ISO weeks
        ("2025-W00", dates.parse_week),
        ("0000-W01", dates.parse_week),
        ("2025-13", dates.parse_month),
        ("2025-00", dates.parse_month),
        ("0000-01", dates.parse_month),
    ],
)
def test_anything_else_is_an_invalid_date_naming_the_parameter(text, parse):
    with pytest.raises(InvalidDate, match="since") as raised:
        parse(text, "since")
    assert isinstance(raised.value, InvalidInput)  # a 400 / one-line CLI error


def test_the_published_patterns_accept_only_what_parses():
    for text in ("2025-01-31", "9999-12-31", "0001-01-01"):
        assert re.match(dates.DAY_PATTERN, text) and dates.parse_day(text)
    for year in range(1990, 2031):  # every week a pattern admits exists, in every year
        for week in range(1, 53):
            label = f"{year}-W{week:02d}"
            assert re.match(dates.WEEK_PATTERN, label) and dates.parse_week(label)
    for text in ("2025-W53", "2025-W00", "0000-W01"):
        assert not re.match(dates.WEEK_PATTERN, text)
    assert not re.match(dates.MONTH_PATTERN, "0000-01")
