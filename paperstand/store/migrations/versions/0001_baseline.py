"""Baseline: the schema of paperstand 0.1 (papers, checkpoints, embeddings, jobs, schedules).

Stores made by 0.1 (SQLite ``user_version`` 4, PostgreSQL ``schema_version`` 4) are stamped
with this revision instead of running it (``store/engine.py``). The parts that only one
backend has are what 0.1 had: SQLite's FTS5 table, PostgreSQL's revision sequence and
trigger, its ``data_version`` counter and pgvector.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0001"
down_revision = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Where the application's role may not create extensions, a superuser runs
        # `CREATE EXTENSION vector` once beforehand.
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "papers",
        sa.Column("pk", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("authors", Json, nullable=False, server_default="[]"),
        sa.Column("abstract", sa.Text, nullable=False, server_default=""),
        sa.Column("categories", Json, nullable=False, server_default="[]"),
        sa.Column("primary_category", sa.Text),
        sa.Column("comment", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("doi", sa.Text),
        sa.Column("license", sa.Text),
        sa.Column("published", sa.Text),
        sa.Column("updated", sa.Text),
        sa.Column("listed", sa.Text),
        sa.Column("upvotes", sa.Integer),
        sa.Column("submitted_by", sa.Text),
        sa.Column("submitted_on", sa.Text),
        sa.Column("github_repo", sa.Text),
        sa.Column("github_stars", sa.Integer),
        sa.Column("project_page", sa.Text),
        sa.Column("ai_summary", sa.Text),
        sa.Column("ai_keywords", Json, nullable=False, server_default="[]"),
        sa.Column("extra", Json, nullable=False, server_default="{}"),
        sa.Column(
            "deleted", sa.Boolean(create_constraint=False), nullable=False, server_default="0"
        ),
        sa.Column("rev", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("papers_listed", "papers", ["listed"])
    op.create_index("papers_submitted_on", "papers", ["submitted_on"])
    op.create_index("papers_primary_category", "papers", ["primary_category"])
    op.create_index("papers_rev", "papers", ["rev"])
    op.create_index("papers_day", "papers", [sa.text("coalesce(submitted_on, listed)")])
    op.create_table(
        "checkpoints",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", Json, nullable=False),
    )
    op.create_table(
        "embeddings",
        sa.Column(
            "pk",
            Key,
            sa.ForeignKey("papers.pk", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("vector", sa.LargeBinary().with_variant(Vector(), "postgresql"), nullable=False),
        *([] if postgres else [sa.Column("code", sa.LargeBinary, nullable=False)]),
    )
    op.create_index("embeddings_model", "embeddings", ["model"])
    op.create_table(
        "embeddings_version",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO embeddings_version (id, version) VALUES (1, 0)")
    op.create_table(
        "jobs",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("params", Json, nullable=False, server_default="{}"),
        sa.Column("key", sa.Text, unique=True),
        sa.Column(
            "status",
            sa.Text,
            sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')"),
            nullable=False,
            server_default="queued",
        ),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer, nullable=False, server_default="3"),
        sa.Column("worker", sa.Text),
        sa.Column("run_after", Stamp, nullable=False),
        sa.Column("lease_until", Stamp),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("started_at", Stamp),
        sa.Column("finished_at", Stamp),
        sa.Column("result", Json),
        sa.Column("error", sa.Text),
    )
    op.create_index("jobs_due", "jobs", ["status", "run_after"])
    op.create_table(
        "schedules",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("params", Json, nullable=False, server_default="{}"),
        sa.Column(
            "every_seconds", sa.Integer, sa.CheckConstraint("every_seconds > 0"), nullable=False
        ),
    )
    if postgres:
        _postgres_only()
    else:
        _sqlite_only()


def _sqlite_only() -> None:
    op.create_index("papers_doi", "papers", ["doi"], sqlite_where=sa.text("doi IS NOT NULL"))
    # External-content FTS5 index, kept in step by the store in each write's transaction.
    op.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5 (title, abstract, authors, "
        "content = 'papers', content_rowid = 'pk', "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )


def _postgres_only() -> None:
    op.create_index("papers_published", "papers", ["published"])
    op.create_index(
        "papers_doi",
        "papers",
        [sa.text("lower(doi)")],
        postgresql_where=sa.text("doi IS NOT NULL"),
    )
    op.execute(
        "ALTER TABLE jobs ALTER COLUMN run_after SET DEFAULT now(), "
        "ALTER COLUMN created_at SET DEFAULT now()"
    )
    op.execute("CREATE INDEX papers_authors ON papers USING gin (authors jsonb_path_ops)")
    op.execute("CREATE INDEX papers_categories ON papers USING gin (categories jsonb_path_ops)")
    # Revisions: a sequence, taken on insert (default) and on update (trigger).
    op.execute("CREATE SEQUENCE papers_rev_seq OWNED BY papers.rev")
    op.execute("ALTER TABLE papers ALTER COLUMN rev SET DEFAULT nextval('papers_rev_seq')")
    op.execute(
        "CREATE FUNCTION papers_next_rev() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.rev := nextval('papers_rev_seq'); RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER papers_rev BEFORE UPDATE ON papers "
        "FOR EACH ROW EXECUTE FUNCTION papers_next_rev()"
    )
    # One counter bumped once per statement that writes papers: caches key on it.
    op.execute(
        "CREATE TABLE data_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)"
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.execute(
        "CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER papers_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON papers "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
    )
