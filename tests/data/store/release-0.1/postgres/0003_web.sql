-- Web faces (issue 5): the day index of the daily lists and a data version for caches
-- (mirrors sqlite/0003_web.sql).

-- A paper's day on the daily lists: the Hugging Face daily-list day when it has one, else
-- the arXiv listing day (see paperstand/feeds.py).
CREATE INDEX papers_day ON papers ((coalesce(submitted_on, listed)));
-- Author and category pages test jsonb containment (authors @> '["Name"]').
CREATE INDEX papers_authors ON papers USING gin (authors jsonb_path_ops);
CREATE INDEX papers_categories ON papers USING gin (categories jsonb_path_ops);

-- One counter bumped by every write to papers. The web app keys its caches on it, so any
-- ingest (from any process on any machine) invalidates every cached page at once. A
-- statement trigger bumps it once per write, however many rows the write touched.
CREATE TABLE data_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER papers_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON papers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
