"""Papers in the JSON shapes of Hugging Face's Papers API, and as Markdown.

Shapes follow the recorded responses in ``shared/data/hf/responses``: a daily-papers item is
``{"paper": {...}, "publishedAt", "title", "summary", "thumbnail", "numComments", ...}``.
The ``huggingface_hub`` client reads some fields (title, ai_summary, githubRepo, ...) only
from the top level of an item, so the fields of the nested ``paper`` object are repeated at the
top level too (see shared FACTS.md), all but ``authors``; readers of the original shape lose
nothing.

Hugging Face's own objects (author objects with user links, the submitter, organization,
media) are echoed from ``Paper.extra`` when a source kept them, and built from the plain
fields otherwise, so arXiv-only papers have the same shape.
"""

from __future__ import annotations

from typing import Any

from paperstand.models import Paper
from paperstand.store.community import Standing


def timestamp(value: str | None) -> str | None:
    """A day or UTC timestamp as Hugging Face writes it: ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    if not value:
        return None
    if len(value) == 10:
        return f"{value}T00:00:00.000Z"
    value = value.removesuffix("Z").replace(" ", "T")
    if "+" in value[10:]:
        value = value[: value.index("+", 10)]
    if "." not in value:
        value += ".000"
    return value + "Z"


def _submitter(paper: Paper) -> dict[str, Any] | None:
    known = paper.extra.get("submittedOnDailyBy")
    if isinstance(known, dict):
        return known
    return _local(paper.submitted_by)


def _local(name: str | None) -> dict[str, Any] | None:
    """A local account as Hugging Face shapes a user."""
    return {"user": name, "name": name, "fullname": name, "type": "user"} if name else None


def _with_username(user: Any) -> dict[str, Any] | None:
    """Hugging Face's outer ``submittedBy`` names the user in ``name``, but the client reads
    the username from ``user``: give it both."""
    if not isinstance(user, dict):
        return None
    if "user" in user or "name" not in user:
        return user
    return {**user, "user": user["name"]}


def _authors(paper: Paper) -> list[dict[str, Any]]:
    known = paper.extra.get("hf_authors")
    if isinstance(known, list) and known:
        return known
    return [{"name": name, "hidden": False} for name in paper.authors]


def paper_object(paper: Paper, standing: Standing | None = None) -> dict[str, Any]:
    """The flat paper object of ``/api/papers/{id}`` (and the ``paper`` of a daily item).
    With the paper's community ``standing``, ``upvotes`` is the votes given here plus the
    upvotes imported from Hugging Face, both also given apart (``localUpvotes``,
    ``hfUpvotes``), and ``numComments`` counts its visible comments."""
    extra = paper.extra
    fields: dict[str, Any] = {
        "id": paper.id,
        "authors": _authors(paper),
        "mediaUrls": extra.get("mediaUrls"),
        "publishedAt": timestamp(paper.published or paper.listed),
        "submittedOnDailyAt": extra.get("submittedOnDailyAt") or timestamp(paper.submitted_on),
        "title": paper.title,
        "submittedOnDailyBy": _submitter(paper),
        "summary": paper.abstract,
        "upvotes": paper.upvotes or 0,
        "discussionId": extra.get("discussionId"),
        "projectPage": paper.project_page,
        "githubRepo": paper.github_repo,
        "githubStars": paper.github_stars,
        "ai_summary": paper.ai_summary,
        "ai_keywords": paper.ai_keywords or None,
        "organization": extra.get("organization"),
        # Ours, beyond Hugging Face's fields.
        "categories": paper.categories,
        "listed": paper.listed,
        "comment": paper.comment,
        "doi": paper.doi,
    }
    if standing is not None:
        fields.update(
            upvotes=standing.upvotes,
            localUpvotes=standing.local_votes,
            hfUpvotes=standing.hf_votes,
            numComments=standing.comments,
        )
    return {key: value for key, value in fields.items() if value is not None}


def daily_item(
    paper: Paper, standing: Standing | None = None, submitter: str | None = None
) -> dict[str, Any]:
    """One item of ``/api/daily_papers`` or ``/api/papers/search``; ``submitter``: the
    public name of the account that submitted the paper here."""
    inner = paper_object(paper, standing)
    extra = paper.extra
    # Not "authors": the client reads them from ``paper`` and would then overwrite its
    # parsed author objects with a top-level copy (PaperInfo's forward-compatibility step).
    repeated = {key: value for key, value in inner.items() if key != "authors"}
    outer: dict[str, Any] = {
        **repeated,
        "paper": inner,
        # The top-level publishedAt is the moment the paper entered the daily list.
        "publishedAt": inner.get("submittedOnDailyAt") or timestamp(paper.day),
        "thumbnail": extra.get("thumbnail"),
        "numComments": standing.comments if standing else extra.get("numComments", 0),
        "submittedBy": _local(submitter)
        or _with_username(extra.get("submittedBy"))
        or inner.get("submittedOnDailyBy"),
        "isAuthorParticipating": extra.get("isAuthorParticipating", False),
    }
    return {key: value for key, value in outer.items() if value is not None}
