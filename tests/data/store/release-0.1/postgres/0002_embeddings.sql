-- Search indexes (issue 4; mirrors sqlite/0002_embeddings.sql): a change number per paper,
-- so indexes kept outside the database (the tantivy full-text index) can catch up
-- incrementally, and the paper embeddings in pgvector.
-- pgvector must be available; where the application's role may not create extensions, a
-- superuser runs `CREATE EXTENSION vector` once beforehand.
CREATE EXTENSION IF NOT EXISTS vector;

-- Every insert or update of a paper takes the next revision number. Writers of papers hold
-- one advisory lock until they commit (store/postgres.py), so revisions become visible in
-- order and an index that saw revision N has seen every revision below it.
CREATE SEQUENCE papers_rev_seq;
ALTER TABLE papers ADD COLUMN rev BIGINT;
UPDATE papers SET rev = pk;
SELECT setval('papers_rev_seq', coalesce((SELECT max(pk) FROM papers), 0) + 1, false);
ALTER TABLE papers ALTER COLUMN rev SET DEFAULT nextval('papers_rev_seq');
ALTER TABLE papers ALTER COLUMN rev SET NOT NULL;
ALTER SEQUENCE papers_rev_seq OWNED BY papers.rev;
CREATE INDEX papers_rev ON papers (rev);
CREATE FUNCTION papers_next_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rev := nextval('papers_rev_seq');
    RETURN NEW;
END
$$;
CREATE TRIGGER papers_rev BEFORE UPDATE ON papers
    FOR EACH ROW EXECUTE FUNCTION papers_next_rev();

-- One embedding per paper, of title + abstract; ``model`` and ``content_hash`` tell
-- `index build` which ones are stale. The column has no fixed dimension (models differ);
-- the store creates one HNSW index per model on ``vector::vector(DIM)`` when the model's
-- first embeddings are saved.
CREATE TABLE embeddings (
    pk BIGINT PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vector VECTOR NOT NULL  -- L2-normalised
);
CREATE INDEX embeddings_model ON embeddings (model);

-- Bumped by every write to embeddings, so a process holding vectors in memory knows when
-- another process changed them.
CREATE TABLE embeddings_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO embeddings_version (id, version) VALUES (1, 0);
