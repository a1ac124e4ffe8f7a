-- The job queue a sweep spreads over machines (`clever sweep --queue`,
-- `clever worker`). Kept on both databases for one design; the queue
-- itself needs PostgreSQL (FOR UPDATE SKIP LOCKED, many machines).
CREATE TABLE sweep_jobs (
    id INTEGER PRIMARY KEY,
    sweep INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    worker TEXT,
    lease_until INTEGER,
    result TEXT,
    error TEXT,
    UNIQUE (sweep, position)
);
CREATE INDEX sweep_jobs_claimable ON sweep_jobs (status, lease_until);
