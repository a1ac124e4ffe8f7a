-- Sessions: one row per run of a trading host (`clever live`, `clever
-- live --paper`, `clever serve`). Every order the session journals has a
-- `customer_ref` beginning with its tag and a dash, which is how a
-- session's orders are found (`clever runs compare session:N RUN`).
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    tag TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL,
    venue TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    stopped_at INTEGER,
    recording TEXT
);
