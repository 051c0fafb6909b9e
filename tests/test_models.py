"""The paper record (``paperstand/models.py``): the two days a paper has."""

from __future__ import annotations

from paperstand.models import Paper


def test_a_papers_day_is_its_daily_list_day_else_its_listing_day():
    featured = Paper(id="1", listed="2025-03-03", submitted_on="2025-03-05")
    assert featured.day == "2025-03-05"
    assert Paper(id="2", listed="2025-03-03").day == "2025-03-03"
    assert Paper(id="3", published="2025-03-01T10:00:00Z").day is None


def test_the_listing_day_search_filters_on_prefers_arxiv_then_the_list_then_publication():
    featured = Paper(id="1", listed="2025-03-03", submitted_on="2025-03-05")
    assert featured.listing_day == "2025-03-03"
    assert Paper(id="2", submitted_on="2025-03-05").listing_day == "2025-03-05"
    assert Paper(id="3", published="2025-03-01T10:00:00Z").listing_day == "2025-03-01"
    assert Paper(id="4").listing_day is None
