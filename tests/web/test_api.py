"""The JSON API: Hugging Face's paths, parameters and shapes, errors, and the real
``huggingface_hub`` client against a live server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.web.conftest import HF_DAYS, OLD_STYLE, hf_response

HTML = {"Accept": "text/html"}


def test_daily_papers_of_a_day_match_hugging_faces_order_and_values(client):
    recorded = hf_response("2026-04-24")
    served = client.get("/api/daily_papers", params={"date": "2026-04-24"}).json()
    assert [item["paper"]["id"] for item in served] == [i["paper"]["id"] for i in recorded]
    assert [item["paper"]["upvotes"] for item in served] == [
        i["paper"]["upvotes"] for i in recorded
    ]
    first, original = served[0], recorded[0]
    assert first["paper"]["authors"] == original["paper"]["authors"]
    assert first["paper"]["submittedOnDailyBy"] == original["paper"]["submittedOnDailyBy"]
    assert first["thumbnail"] == original["thumbnail"]
    assert first["submittedBy"] == {**original["submittedBy"], "user": "taesiri"}
    assert first["numComments"] == original["numComments"]


def test_items_have_every_field_of_the_recorded_shape_and_repeat_them_on_top(client):
    recorded = hf_response("2026-04-24")[0]
    item = client.get("/api/daily_papers", params={"date": "2026-04-24", "limit": 1}).json()[0]
    assert set(recorded) <= set(item)
    assert set(recorded["paper"]) <= set(item["paper"])
    assert "authors" not in item  # huggingface_hub would replace its parsed authors with it
    for key in ("id", "upvotes", "ai_summary", "ai_keywords", "submittedOnDailyBy"):
        if key in item["paper"]:
            assert item[key] == item["paper"][key]
    # The top-level publishedAt is when the paper entered the daily list.
    assert item["publishedAt"].startswith("2026-04-24")
    assert item["paper"]["publishedAt"] == recorded["paper"]["publishedAt"]


def test_week_month_sort_submitter_and_paging(client):
    week = client.get("/api/daily_papers", params={"week": "2025-W13", "limit": 100}).json()
    days = {item["publishedAt"][:10] for item in week}
    assert days <= {f"2025-03-{d}" for d in range(24, 31)} and "2025-03-27" in days
    votes = [item["upvotes"] for item in week]
    assert votes == sorted(votes, reverse=True)

    month = client.get("/api/daily_papers", params={"month": "2025-03", "limit": 100}).json()
    # The month's curated list: the Hugging Face daily list of 2025-03-27 (the arXiv-only
    # papers of March are on New on arXiv).
    assert len(month) == len(hf_response("2025-03-27"))
    assert client.get("/api/daily_papers", params={"month": "2025-05"}).json() == []

    recent = client.get("/api/daily_papers", params={"sort": "publishedAt", "limit": 5}).json()
    assert recent[0]["publishedAt"].startswith("2026-04-24")
    trending = client.get("/api/daily_papers", params={"sort": "trending"}).json()
    assert trending and trending[0]["paper"]["id"] == hf_response("2026-04-24")[0]["paper"]["id"]

    who = hf_response("2026-04-24")[0]["paper"]["submittedOnDailyBy"]["user"]
    mine = client.get("/api/daily_papers", params={"date": "2026-04-24", "submitter": who})
    assert mine.json() and all(i["submittedOnDailyBy"]["user"] == who for i in mine.json())

    page0 = client.get("/api/daily_papers", params={"date": "2026-04-24", "limit": 4}).json()
    page1 = client.get(
        "/api/daily_papers", params={"date": "2026-04-24", "limit": 4, "p": 1}
    ).json()
    assert len(page0) == 4 and page1 and {i["id"] for i in page0}.isdisjoint(i["id"] for i in page1)
    past = client.get("/api/daily_papers", params={"date": "2026-04-24", "p": 99})
    assert past.status_code == 200 and past.json() == []


@pytest.mark.parametrize(
    ("params", "status", "name"),
    [
        ({"limit": 0}, 422, "limit"),
        ({"limit": 101}, 422, "limit"),
        ({"limit": "many"}, 422, "limit"),
        ({"p": -1}, 422, "p"),
        ({"sort": "random"}, 422, "sort"),
        ({"date": "2025-02-30"}, 400, "date"),
        ({"date": "yesterday"}, 400, "date"),
        ({"week": "2025-W60"}, 400, "week"),
        ({"week": "2025-13"}, 400, "week"),
        ({"month": "2025-13"}, 400, "month"),
        ({"date": "2025-03-27", "week": "2025-W13"}, 400, "week"),
    ],
)
def test_bad_parameters_get_a_json_error_naming_them(client, params, status, name):
    response = client.get("/api/daily_papers", params=params)
    assert response.status_code == status
    assert name in response.json()["error"]


def test_paper_info_by_any_form_of_id(client):
    paper_id = hf_response("2025-03-27")[0]["paper"]["id"]
    for asked in (paper_id, f"{paper_id}v2", f"arXiv:{paper_id}"):
        response = client.get(f"/api/papers/{asked}")
        assert response.status_code == 200, asked
        assert response.json()["id"] == paper_id
    old = client.get(f"/api/papers/{OLD_STYLE.id}").json()
    assert old["title"] == OLD_STYLE.title and old["categories"] == ["hep-th"]


def test_unknown_papers_are_404_with_a_json_error(client):
    for path in (
        "/api/papers/2401.99999",
        "/papers/2401.99999.md",
        "/papers/2401.99999.bib",
        "/api/papers/not-a-paper",
        "/api/papers/2401.99999/similar",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "2401.99999" in response.json()["error"] or "not-a-paper" in response.json()["error"]


def test_markdown_and_bibtex(client):
    item = hf_response("2025-04-09")[0]["paper"]
    text = client.get(f"/papers/{item['id']}.md").text
    assert text.startswith("# ") and item["authors"][0]["name"] in text
    bib = client.get(f"/papers/{OLD_STYLE.id}.bib")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    assert "eprint = {hep-th/9901001}" in bib.text
    assert "author = {Ada Example and Bo Sample}" in bib.text
    both = client.get("/bibtex", params={"ids": f"{OLD_STYLE.id},{item['id']}"}).text
    assert both.count("@misc{") == 2
    assert client.get("/bibtex", params={"ids": "2401.99999"}).status_code == 404


def test_openapi_schema_and_docs(client):
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/daily_papers",
        "/api/papers/search",
        "/api/search",
        "/api/papers/{paper_id}",
        "/api/papers/{paper_id}/similar",
        "/papers/{paper_id}.md",
    ):
        assert path in schema["paths"], path
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_search_api_with_scores_filters_and_a_pasted_id(client):
    title = hf_response("2025-04-09")[0]["paper"]["title"]
    found = client.get("/api/search", params={"q": title, "limit": 5}).json()
    assert found["hits"] and " ".join(found["hits"][0]["title"].split()) == " ".join(title.split())
    assert all(isinstance(hit["score"], float) for hit in found["hits"])
    dated = client.get("/api/search", params={"q": title, "since": "2026-01-01"}).json()
    assert all(hit["day"] >= "2026-01-01" for hit in dated["hits"])
    pasted = client.get("/api/search", params={"q": f"https://arxiv.org/abs/{OLD_STYLE.id}"})
    assert pasted.json()["direct"]["id"] == OLD_STYLE.id
    for params in (
        {"q": ""},
        {"q": "x" * 251},
        {"q": "x", "since": "2025-1-1"},
        {"q": "x", "limit": 0},
        {"q": "x", "offset": 1000},  # only the best 1,000 results are served
    ):
        assert client.get("/api/search", params=params).status_code in (400, 422), params


def test_search_says_when_nothing_matches_well(client):
    title = hf_response("2025-04-09")[0]["paper"]["title"]
    real = client.get("/api/search", params={"q": title}).json()
    assert real["hits"] and real["few_good_matches"] is False
    for nonsense in ("blorf snazzle wibble", "xkcd foo bar baz", "ünïcödé 数学 🤖"):
        found = client.get("/api/search", params={"q": nonsense}).json()
        assert found["few_good_matches"] is True, (nonsense, found["hits"][:2])
    # Common words find papers, but none about this: the page lists them and says so.
    off_topic = "best pizza near me"
    assert client.get("/api/search", params={"q": off_topic}).json()["hits"]
    page = client.get("/search", params={"q": off_topic}, headers=HTML).text
    assert "Few good matches" in page
    assert "Few good matches" not in client.get("/search", params={"q": title}, headers=HTML).text


def test_hf_search_and_similar(client):
    title = hf_response("2025-03-27")[0]["paper"]["title"]
    items = client.get("/api/papers/search", params={"q": title, "limit": 3}).json()
    assert items and items[0]["title"] == items[0]["paper"]["title"]
    assert client.get("/api/papers/search", params={"q": "x", "limit": 121}).status_code == 422
    paper_id = items[0]["id"]
    similar = client.get(f"/api/papers/{paper_id}/similar", params={"limit": 3}).json()
    assert len(similar["hits"]) <= 3 and all(h["id"] != paper_id for h in similar["hits"])


ODD_PATHS = [
    "/api/daily_papers?date=%00",
    "/api/papers/%2e%2e/%2e%2e/etc/passwd",
    "/papers/..%2f",
    "/api/papers/search?q=%22%27%3B--",
    "/api/search?q=AND%20OR%20NOT%20(((",
    "/search?q=*",
    "/authors/%3Cscript%3E",
    "/categories/%00",
    "/papers/date/9999-99-99",
    "/papers/week/0000-W00",
    "/papers/month/2025-00",
    "/feeds/search.xml?q=%F0%9F%98%80",
    "/feeds/categories/..%2f.xml",
    "/bibtex?ids=",
    "/api/papers/" + "9" * 3000,
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_requests_never_get_a_server_error(client, path):
    assert client.get(path).status_code < 500


HF_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from huggingface_hub import HfApi

    api = HfApi(endpoint=sys.argv[1])
    def show(papers):
        return [
            {"id": p.id, "title": p.title, "authors": [a.name for a in p.authors or []],
             "upvotes": p.upvotes, "published": p.published_at and p.published_at.isoformat(),
             "submitted": p.submitted_at and p.submitted_at.isoformat(),
             "submitter": p.submitted_by and p.submitted_by.username,
             "ai_summary": p.ai_summary, "github": p.github_repo}
            for p in papers
        ]
    out = {
        "date": show(api.list_daily_papers(date="2026-04-24")),
        "week": show(api.list_daily_papers(week="2025-W13", limit=100)),
        "month": show(api.list_daily_papers(month="2025-04")),
        "submitter": show(api.list_daily_papers(date="2026-04-24", submitter=sys.argv[2])),
        "trending": show(api.list_daily_papers(sort="trending", limit=3)),
        "paged": show(api.list_daily_papers(date="2026-04-24", p=1, limit=2)),
        "info": show([api.paper_info(sys.argv[3])]),
        "search": show(api.list_papers(query=sys.argv[4], limit=5)),
        "markdown": api.read_paper(sys.argv[3]),
    }
    print(json.dumps(out))
    """
)


def test_the_huggingface_hub_client_reads_the_api(live_url, tmp_path):
    recorded = hf_response("2026-04-24")
    top = recorded[0]["paper"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # no token, no cache of the user's
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            HF_SCRIPT,
            live_url,
            top["submittedOnDailyBy"]["user"],
            top["id"],
            top["title"],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    import json

    out = json.loads(run.stdout)
    day = out["date"]
    assert [p["id"] for p in day] == [i["paper"]["id"] for i in recorded]
    assert day[0]["title"] == top["title"]
    assert day[0]["authors"] == [a["name"] for a in top["authors"]]
    assert [p["upvotes"] for p in day] == [i["paper"]["upvotes"] for i in recorded]
    assert day[0]["published"].startswith(top["publishedAt"][:10])
    assert day[0]["submitted"].startswith("2026-04-24")
    assert day[0]["submitter"] == top["submittedOnDailyBy"]["user"]
    assert day[0]["ai_summary"] == top.get("ai_summary")
    week_days = {p["submitted"][:10] for p in out["week"]}
    assert "2025-03-27" in week_days and week_days <= {f"2025-03-{d}" for d in range(24, 31)}
    assert {p["submitted"][:10] for p in out["month"]} == {"2025-04-09"}
    assert out["submitter"] and all(p["submitter"] == day[0]["submitter"] for p in out["submitter"])
    assert out["trending"][0]["id"] == top["id"]
    assert [p["id"] for p in out["paged"]] == [i["paper"]["id"] for i in recorded[2:4]]
    info = out["info"][0]
    assert info["title"] == top["title"] and info["upvotes"] == top["upvotes"]
    assert info["submitted"].startswith("2026-04-24")
    assert out["search"] and out["search"][0]["id"] == top["id"]
    assert out["markdown"].startswith(f"# {top['title']}")


def test_days_of_the_corpus_are_what_the_fixture_promises(client):
    days = [client.get("/api/daily_papers", params={"date": d}).json() for d in HF_DAYS]
    assert all(days)
