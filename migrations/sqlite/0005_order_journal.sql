-- The order journal: live and paper orders (`run` null) are written before
-- they are sent and kept up to date from the venue, so a restarted host
-- knows every order it has. Each is found by its `customer_ref` (the
-- venue's client order reference), unique among them.
--
-- An order at the exchange under the host's strategy reference that the
-- journal never wrote (placed by another host, or by hand) is adopted
-- with no strategy version, so `strategy_version` may now be null.
-- SQLite cannot drop a NOT NULL: both order tables are rebuilt, the
-- events first copied aside (dropping `orders` would cascade to them).

CREATE TABLE order_events_copy AS SELECT order_id, seq, at, kind, price, amount_pennies
    FROM order_events;
DROP TABLE order_events;

CREATE TABLE orders_rebuilt (
    id INTEGER PRIMARY KEY,
    run INTEGER REFERENCES backtest_runs (id) ON DELETE CASCADE,
    strategy_version INTEGER REFERENCES strategy_versions (id),
    venue_order_id TEXT,
    market INTEGER NOT NULL REFERENCES markets (id),
    selection_id INTEGER NOT NULL,
    side TEXT NOT NULL,                      -- BACK, LAY
    order_type TEXT NOT NULL,                -- LIMIT, LIMIT_ON_CLOSE, MARKET_ON_CLOSE
    persistence TEXT NOT NULL,               -- LAPSE, PERSIST, MARKET_ON_CLOSE
    price REAL NOT NULL,
    customer_ref TEXT,
    placed_at INTEGER NOT NULL,
    -- PENDING, EXECUTABLE, EXECUTION_COMPLETE, REJECTED, FAILED (sent,
    -- never received by the exchange)
    status TEXT NOT NULL,
    average_price_matched REAL,
    settled_at INTEGER,
    size_pennies INTEGER NOT NULL DEFAULT 0,
    size_matched_pennies INTEGER NOT NULL DEFAULT 0,
    size_cancelled_pennies INTEGER NOT NULL DEFAULT 0,
    size_lapsed_pennies INTEGER NOT NULL DEFAULT 0,
    size_voided_pennies INTEGER NOT NULL DEFAULT 0,
    profit_pennies INTEGER,
    commission_pennies INTEGER,
    mode TEXT,                               -- live, paper; null in a backtest
    strategy_ref TEXT,                       -- the host's customerStrategyRef
    reason TEXT                              -- why it was refused or failed
);
INSERT INTO orders_rebuilt (id, run, strategy_version, venue_order_id, market, selection_id,
    side, order_type, persistence, price, customer_ref, placed_at, status,
    average_price_matched, settled_at, size_pennies, size_matched_pennies,
    size_cancelled_pennies, size_lapsed_pennies, size_voided_pennies, profit_pennies,
    commission_pennies)
SELECT id, run, strategy_version, venue_order_id, market, selection_id, side, order_type,
    persistence, price, customer_ref, placed_at, status, average_price_matched, settled_at,
    size_pennies, size_matched_pennies, size_cancelled_pennies, size_lapsed_pennies,
    size_voided_pennies, profit_pennies, commission_pennies
FROM orders;
DROP TABLE orders;
ALTER TABLE orders_rebuilt RENAME TO orders;
CREATE INDEX orders_by_strategy ON orders (strategy_version, placed_at);
CREATE INDEX orders_by_market ON orders (market);
CREATE UNIQUE INDEX orders_by_customer_ref ON orders (customer_ref) WHERE run IS NULL;
CREATE INDEX orders_unsettled ON orders (strategy_ref) WHERE run IS NULL AND settled_at IS NULL;

CREATE TABLE order_events (
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    price REAL,
    amount_pennies INTEGER,
    PRIMARY KEY (order_id, seq)
);
INSERT INTO order_events SELECT * FROM order_events_copy;
DROP TABLE order_events_copy;
