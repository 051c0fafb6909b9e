-- Search indexes (issue 4): a change number per paper, so indexes kept outside the database
-- (the tantivy full-text index) can catch up incrementally, and the paper embeddings.

-- Every insert or update of a paper gives it the next revision number (SQLiteStore.upsert_papers
-- assigns them in the batch's transaction). An index remembers the highest revision it has
-- seen and asks only for papers changed after it.
ALTER TABLE papers ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
UPDATE papers SET rev = pk;
CREATE INDEX papers_rev ON papers (rev);

-- One embedding per paper, of title + abstract. ``model`` and ``content_hash`` (of the text
-- embedded) tell `index build` which ones are stale: a changed abstract or another model.
CREATE TABLE embeddings (
    pk INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL,  -- float32, L2-normalised (sqlite-vec's float32 layout)
    code BLOB NOT NULL     -- sign bits of vector (sqlite-vec's bit layout), the first stage
);
CREATE INDEX embeddings_model ON embeddings (model);

-- Bumped by every write to embeddings, so a process holding vectors in memory knows when
-- another process (e.g. `index build`) changed them.
CREATE TABLE embeddings_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO embeddings_version (id, version) VALUES (1, 0);
