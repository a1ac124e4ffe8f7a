-- The trading schema on SQLite. Times are epoch milliseconds (INTEGER);
-- money and prices are REAL. The PostgreSQL schema is the same design
-- (migrations/postgres/0001_trading_schema.sql).

-- Markets, one row per venue market.
CREATE TABLE markets (
    id INTEGER PRIMARY KEY,
    venue TEXT NOT NULL,
    market_id TEXT NOT NULL,                 -- the venue's id, e.g. 1.206064380
    event_id TEXT,
    event_type TEXT NOT NULL,                -- 7 horses, 4339 greyhounds
    country TEXT,
    track TEXT,
    market_type TEXT NOT NULL,               -- WIN, PLACE, ...
    number_of_winners INTEGER NOT NULL,
    scheduled_start INTEGER,
    actual_start INTEGER,                    -- first in-play update
    status TEXT NOT NULL,                    -- INACTIVE, OPEN, SUSPENDED, CLOSED
    distance TEXT,
    grade TEXT,
    conditions TEXT,
    base_rate REAL,                          -- commission, percent
    source TEXT,                             -- the file it was ingested from
    UNIQUE (venue, market_id)
);
CREATE INDEX markets_by_start ON markets (scheduled_start);
CREATE INDEX markets_by_track ON markets (track, scheduled_start);

-- Runners of a market, with their result.
CREATE TABLE runners (
    market INTEGER NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    selection_id INTEGER NOT NULL,
    handicap REAL NOT NULL DEFAULT 0,
    name TEXT,
    cloth_number INTEGER,                    -- trap or cloth number
    sort_priority INTEGER,
    status TEXT NOT NULL,                    -- ACTIVE, WINNER, LOSER, PLACED, REMOVED, HIDDEN
    adjustment_factor REAL,
    removal_time INTEGER,
    result TEXT,
    bsp REAL,
    PRIMARY KEY (market, selection_id, handicap)
);

-- Every market change as the venue published it, in order: what a replay
-- reads, so a backtest from the database sees exactly what the file had.
CREATE TABLE market_changes (
    market INTEGER NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    change TEXT NOT NULL,                    -- the Stream API market change (JSON)
    PRIMARY KEY (market, seq)
);

-- Odds over time, per runner: the best prices and, compactly, the ladder.
CREATE TABLE odds_snapshots (
    published_at INTEGER NOT NULL,
    market INTEGER NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    selection_id INTEGER NOT NULL,
    back_price REAL,
    back_size REAL,
    lay_price REAL,
    lay_size REAL,
    last_traded REAL,
    traded_volume REAL NOT NULL,
    ladder BLOB,                             -- see store/ladder.rs
    PRIMARY KEY (market, selection_id, published_at)
) WITHOUT ROWID;
CREATE INDEX odds_by_time ON odds_snapshots (published_at);

-- Strategies and the versions of them the host has loaded.
CREATE TABLE strategies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE strategy_versions (
    id INTEGER PRIMARY KEY,
    strategy INTEGER NOT NULL REFERENCES strategies (id),
    version TEXT NOT NULL,                   -- semver
    wit_version TEXT NOT NULL,
    component BLOB NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    parameters TEXT NOT NULL DEFAULT '{}',   -- JSON
    active INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- Backtest runs and their results per strategy version.
CREATE TABLE backtest_runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    config TEXT NOT NULL,                    -- JSON: data, params, risk, simulation
    markets INTEGER NOT NULL,
    updates INTEGER NOT NULL
);
CREATE TABLE backtest_results (
    run INTEGER NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
    strategy_version INTEGER NOT NULL REFERENCES strategy_versions (id),
    orders INTEGER NOT NULL,
    matched REAL NOT NULL,
    gross_profit REAL NOT NULL,
    commission REAL NOT NULL,
    profit REAL NOT NULL,
    roi REAL NOT NULL,
    rejected TEXT NOT NULL,                  -- JSON: reason -> count
    faults INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    PRIMARY KEY (run, strategy_version)
);

-- Orders with their whole life; `run` is null for live and paper orders.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    run INTEGER REFERENCES backtest_runs (id) ON DELETE CASCADE,
    strategy_version INTEGER NOT NULL REFERENCES strategy_versions (id),
    venue_order_id TEXT,
    market INTEGER NOT NULL REFERENCES markets (id),
    selection_id INTEGER NOT NULL,
    side TEXT NOT NULL,                      -- BACK, LAY
    order_type TEXT NOT NULL,                -- LIMIT, LIMIT_ON_CLOSE, MARKET_ON_CLOSE
    persistence TEXT NOT NULL,               -- LAPSE, PERSIST, MARKET_ON_CLOSE
    price REAL NOT NULL,
    size REAL NOT NULL,
    customer_ref TEXT,
    placed_at INTEGER NOT NULL,
    status TEXT NOT NULL,                    -- PENDING, EXECUTABLE, EXECUTION_COMPLETE, REJECTED
    size_matched REAL NOT NULL DEFAULT 0,
    average_price_matched REAL,
    size_cancelled REAL NOT NULL DEFAULT 0,
    size_lapsed REAL NOT NULL DEFAULT 0,
    size_voided REAL NOT NULL DEFAULT 0,
    settled_at INTEGER,
    profit REAL,
    commission REAL
);
CREATE INDEX orders_by_strategy ON orders (strategy_version, placed_at);
CREATE INDEX orders_by_market ON orders (market);
-- Each step of an order's life: placed, matched (in parts), cancelled, lapsed, voided, settled.
CREATE TABLE order_events (
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    price REAL,
    size REAL,
    PRIMARY KEY (order_id, seq)
);

-- Performance per strategy version and hour, and its daily roll-up.
CREATE TABLE strategy_performance_hourly (
    strategy_version INTEGER NOT NULL REFERENCES strategy_versions (id),
    hour INTEGER NOT NULL,                   -- start of the hour
    orders INTEGER NOT NULL,
    matched REAL NOT NULL,
    gross_profit REAL NOT NULL,
    commission REAL NOT NULL,
    profit REAL NOT NULL,
    PRIMARY KEY (strategy_version, hour)
);
CREATE TABLE strategy_performance_daily (
    strategy_version INTEGER NOT NULL REFERENCES strategy_versions (id),
    day INTEGER NOT NULL,                    -- start of the day (UTC)
    orders INTEGER NOT NULL,
    matched REAL NOT NULL,
    gross_profit REAL NOT NULL,
    commission REAL NOT NULL,
    profit REAL NOT NULL,
    PRIMARY KEY (strategy_version, day)
);

-- Models and their predictions (a probability per runner, as of a time).
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (name, version)
);
CREATE TABLE predictions (
    model INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    market INTEGER NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    selection_id INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
    PRIMARY KEY (model, market, selection_id, published_at)
);

-- Alerts: signals the host stored and may forward.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    strategy_version INTEGER REFERENCES strategy_versions (id),
    market INTEGER REFERENCES markets (id),
    selection_id INTEGER,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    severity TEXT NOT NULL DEFAULT 'info',
    message TEXT
);
CREATE INDEX alerts_by_time ON alerts (created_at);

-- Input that failed validation, with why and where; nothing else is lost.
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,                    -- the file
    position TEXT NOT NULL,                  -- line (and runner) in it
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (source, position, reason)
);
