-- Papers and source checkpoints (mirrors sqlite/0001_papers.sql).
-- pk is the surrogate key other tables (embeddings, ...) refer to; id is the canonical paper
-- id (see paperstand/ids.py). JSON columns are jsonb; dates stay ISO 8601 text so they sort
-- and compare exactly as in SQLite.
-- No full-text index here: both backends share one tantivy index kept outside the database
-- (paperstand/index/fulltext.py), which answers OR queries far faster than SQLite FTS5, and
-- catches up from the paper revisions (migration 0002). PostgreSQL's tsvector would only
-- slow every write.
CREATE TABLE papers (
    pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER,
    title TEXT NOT NULL DEFAULT '',
    authors JSONB NOT NULL DEFAULT '[]',       -- array of names, in order
    abstract TEXT NOT NULL DEFAULT '',
    categories JSONB NOT NULL DEFAULT '[]',    -- array, primary first
    primary_category TEXT,
    comment TEXT,
    journal_ref TEXT,
    doi TEXT,
    license TEXT,
    published TEXT,
    updated TEXT,
    listed TEXT,
    upvotes INTEGER,
    submitted_by TEXT,
    submitted_on TEXT,
    github_repo TEXT,
    github_stars INTEGER,
    project_page TEXT,
    ai_summary TEXT,
    ai_keywords JSONB NOT NULL DEFAULT '[]',
    extra JSONB NOT NULL DEFAULT '{}',         -- source-specific extras
    deleted BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX papers_listed ON papers (listed);
CREATE INDEX papers_submitted_on ON papers (submitted_on);
CREATE INDEX papers_published ON papers (published);
CREATE INDEX papers_primary_category ON papers (primary_category);
CREATE INDEX papers_doi ON papers (lower(doi)) WHERE doi IS NOT NULL;

CREATE TABLE checkpoints (
    key TEXT PRIMARY KEY,
    value JSONB NOT NULL
);
