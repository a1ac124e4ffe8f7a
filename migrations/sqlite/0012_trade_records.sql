-- Trades of order-book instruments (Hyperliquid perpetuals first), a
-- position from flat to flat, live or simulated: entry and exit,
-- direction, profit in money after fees and funding, and in R multiples of
-- the stop the opening order named; the strategy version; backtest, paper
-- or live (with the run or session it belongs to). Money and prices are
-- exact decimal strings.
CREATE TABLE trade_records (
    id INTEGER PRIMARY KEY,
    mode TEXT NOT NULL CHECK (mode IN ('backtest', 'paper', 'live')),
    run INTEGER REFERENCES backtest_runs (id) ON DELETE CASCADE,
    session TEXT,
    venue TEXT NOT NULL,
    strategy TEXT NOT NULL,
    version TEXT NOT NULL,
    instrument TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    opened_at INTEGER NOT NULL,
    closed_at INTEGER NOT NULL,
    size TEXT NOT NULL,
    entry TEXT NOT NULL,
    exit TEXT NOT NULL,
    stop TEXT,
    pnl TEXT NOT NULL,
    fees TEXT NOT NULL,
    funding TEXT NOT NULL,
    r_multiple TEXT
);
CREATE INDEX trade_records_by_version ON trade_records (strategy, version);
CREATE INDEX trade_records_by_run ON trade_records (run);

-- What was learned, per strategy version, optionally about one trade
-- (`clever notes add NAME@VERSION "..." [--trade ID]`).
CREATE TABLE strategy_notes (
    id INTEGER PRIMARY KEY,
    strategy TEXT NOT NULL,
    version TEXT NOT NULL,
    trade INTEGER REFERENCES trade_records (id) ON DELETE SET NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX strategy_notes_by_version ON strategy_notes (strategy, version);
