-- Background jobs (issue 6): the queue `paperstand worker` takes work from, and the
-- schedules that add to it. See paperstand/jobs.py. Times are ISO 8601 UTC text
-- (strftime('%Y-%m-%dT%H:%M:%fZ')), which compares in time order.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',        -- JSON object
    key TEXT UNIQUE,                          -- at most one job per key, ever
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    worker TEXT,                              -- who runs (or last ran) it
    run_after TEXT NOT NULL,                  -- not before
    lease_until TEXT,                         -- a running job whose lease passed is retried
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    result TEXT,                              -- JSON object
    error TEXT
);
CREATE INDEX jobs_due ON jobs (status, run_after);

CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',        -- JSON object
    every_seconds INTEGER NOT NULL CHECK (every_seconds > 0)
);
