"""The database schema, described once for both backends as SQLAlchemy Core ``Table``\\ s.

Every table lives on the one :data:`metadata`. Types that differ between SQLite and
PostgreSQL are named here once (:data:`Json`, :data:`Stamp`, :data:`Key`): JSON is text on
SQLite and ``jsonb`` on PostgreSQL, times are ISO 8601 UTC text on SQLite (which sorts in time
order) and ``timestamptz`` on PostgreSQL. What Core cannot describe (PostgreSQL triggers and
the pgvector extension) is written in the Alembic revisions under ``migrations/versions``,
and the few queries whose SQL really differs are in ``store/dialect.py``.

How a feature adds tables of its own: see the docstring of ``paperstand/store/__init__.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

metadata = MetaData()

# JSON documents: text on SQLite, jsonb on PostgreSQL (serialised by orjson, see engine.py).
Json = JSON().with_variant(JSONB(), "postgresql")
# Points in time: ISO 8601 UTC text on SQLite, timestamptz on PostgreSQL.
Stamp = Text().with_variant(TIMESTAMP(timezone=True), "postgresql")
# Surrogate keys: SQLite's rowid (INTEGER PRIMARY KEY), a bigint on PostgreSQL.
Key = BigInteger().with_variant(Integer(), "sqlite")

papers = Table(
    "papers",
    metadata,
    # pk is the surrogate key other tables refer to; id the canonical paper id (ids.py).
    Column("pk", Key, primary_key=True),
    Column("id", Text, nullable=False, unique=True),
    Column("version", Integer),
    Column("title", Text, nullable=False, server_default=""),
    Column("authors", Json, nullable=False, server_default="[]"),  # names, in order
    Column("abstract", Text, nullable=False, server_default=""),
    Column("categories", Json, nullable=False, server_default="[]"),  # primary first
    Column("primary_category", Text),
    Column("comment", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("license", Text),
    # Dates stay ISO 8601 text on both backends, so they sort and compare alike.
    Column("published", Text),
    Column("updated", Text),
    Column("listed", Text),
    Column("upvotes", Integer),
    Column("submitted_by", Text),
    Column("submitted_on", Text),
    Column("github_repo", Text),
    Column("github_stars", Integer),
    Column("project_page", Text),
    Column("ai_summary", Text),
    Column("ai_keywords", Json, nullable=False, server_default="[]"),
    Column("extra", Json, nullable=False, server_default="{}"),  # source-specific extras
    Column("deleted", Boolean(create_constraint=False), nullable=False, server_default="0"),
    # Every insert or update takes the next revision, so indexes kept outside the database
    # (the tantivy full text) catch up by asking for what changed after the last they saw.
    Column("rev", BigInteger, nullable=False, server_default="0"),
)
Index("papers_listed", papers.c.listed)
Index("papers_submitted_on", papers.c.submitted_on)
Index("papers_primary_category", papers.c.primary_category)
Index("papers_rev", papers.c.rev)
# A paper's day on the daily lists: the Hugging Face day when it has one, else the listing.
Index("papers_day", func.coalesce(papers.c.submitted_on, papers.c.listed))

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Json, nullable=False),
)

embeddings = Table(
    "embeddings",
    metadata,
    # One embedding per paper, of title + abstract; model and content_hash tell
    # `index build` which ones are stale.
    Column("pk", Key, primary_key=True, autoincrement=False),
    Column("model", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    # float32 L2-normalised: sqlite-vec's blob layout on SQLite, pgvector's vector (of no
    # fixed dimension: models differ) on PostgreSQL. See migrations/versions/0001.
    Column("vector", LargeBinary, nullable=False),
    Column("code", LargeBinary),  # SQLite only: the sign bits, the first search stage
)
Index("embeddings_model", embeddings.c.model)

embeddings_version = Table(
    "embeddings_version",
    metadata,
    # Bumped by every write to embeddings: processes holding vectors in memory reload on it.
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Key, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("params", Json, nullable=False, server_default="{}"),
    Column("key", Text, unique=True),  # at most one job per key, ever
    Column(
        "status",
        Text,
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')"),
        nullable=False,
        server_default="queued",
    ),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="3"),
    Column("worker", Text),  # who runs (or last ran) it
    Column("run_after", Stamp, nullable=False),  # not before
    Column("lease_until", Stamp),  # a running job whose lease passed is retried
    Column("created_at", Stamp, nullable=False),
    Column("started_at", Stamp),
    Column("finished_at", Stamp),
    Column("result", Json),
    Column("error", Text),
)
Index("jobs_due", jobs.c.status, jobs.c.run_after)

schedules = Table(
    "schedules",
    metadata,
    Column("name", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("params", Json, nullable=False, server_default="{}"),
    Column("every_seconds", Integer, CheckConstraint("every_seconds > 0"), nullable=False),
)
