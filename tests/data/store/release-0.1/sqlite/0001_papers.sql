-- Papers, their full-text index and source checkpoints.
-- pk is the rowid that the FTS5 index (and later the vector index) refer to; id is the
-- canonical paper id (see paperstand/ids.py).
CREATE TABLE papers (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER,
    title TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',        -- JSON array of names, in order
    abstract TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '[]',     -- JSON array, primary first
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
    ai_keywords TEXT NOT NULL DEFAULT '[]',    -- JSON array
    extra TEXT NOT NULL DEFAULT '{}',          -- JSON object, source-specific extras
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX papers_listed ON papers (listed);
CREATE INDEX papers_submitted_on ON papers (submitted_on);
CREATE INDEX papers_primary_category ON papers (primary_category);
CREATE INDEX papers_doi ON papers (doi) WHERE doi IS NOT NULL;

-- External-content FTS5 index. SQLiteStore.upsert_papers keeps it in step in the same
-- transaction as every write to papers (faster than per-row triggers).
CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, authors,
    content = 'papers', content_rowid = 'pk',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TABLE checkpoints (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL                         -- JSON object
);
