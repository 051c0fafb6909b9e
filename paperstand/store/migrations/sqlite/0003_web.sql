-- Web faces (issue 5): the day index of the daily lists and a data version for caches.

-- A paper's day on the daily lists: the Hugging Face daily-list day when it has one, else
-- the arXiv listing day (see paperstand/feeds.py).
CREATE INDEX papers_day ON papers (coalesce(submitted_on, listed));

-- One counter bumped by every write to papers. The web app keys its caches on it, so any
-- ingest (from this process or another) invalidates every cached page at once.
CREATE TABLE data_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
CREATE TRIGGER papers_version_ai AFTER INSERT ON papers BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER papers_version_au AFTER UPDATE ON papers BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER papers_version_ad AFTER DELETE ON papers BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
END;
