-- Background jobs (issue 6; mirrors sqlite/0004_jobs.sql): the queue `paperstand worker`
-- processes on any number of machines take work from (FOR UPDATE SKIP LOCKED), and the
-- schedules that add to it. See paperstand/jobs.py. Times come from the server's clock.
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    params JSONB NOT NULL DEFAULT '{}',
    key TEXT UNIQUE,                          -- at most one job per key, ever
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    worker TEXT,                              -- who runs (or last ran) it
    run_after TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until TIMESTAMPTZ,                  -- a running job whose lease passed is retried
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    result JSONB,
    error TEXT
);
CREATE INDEX jobs_due ON jobs (status, run_after);

CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params JSONB NOT NULL DEFAULT '{}',
    every_seconds INTEGER NOT NULL CHECK (every_seconds > 0)
);
