-- Orders of order-book instruments (Hyperliquid perpetuals first) placed
-- by running hosts, paper and live, each as the venue last reported it: a
-- restarted host counts the last hour's toward `max_orders_per_hour`, and
-- `clever orders` lists them. One row per order of one strategy in one
-- session (`order_id` is the host's id, which the order's cloid carries).
-- Prices, sizes and fees are exact decimal strings.
CREATE TABLE book_orders (
    id INTEGER PRIMARY KEY,
    mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
    session TEXT NOT NULL,
    venue TEXT NOT NULL,
    strategy TEXT NOT NULL,
    version TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    time_in_force TEXT NOT NULL,             -- gtc, ioc, post-only
    reduce_only BOOLEAN NOT NULL,
    price TEXT NOT NULL,
    size TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    -- PENDING, EXECUTABLE, EXECUTION_COMPLETE, REJECTED
    status TEXT NOT NULL,
    filled TEXT NOT NULL,
    average_price TEXT,
    fees TEXT NOT NULL,
    reason TEXT,                             -- why it was refused
    updated_at INTEGER NOT NULL,
    UNIQUE (session, strategy, order_id)
);
CREATE INDEX book_orders_by_strategy ON book_orders (strategy, mode, placed_at);

-- A running host numbers each strategy's trades in its session (`seq`,
-- from 0), so that a write tried again after its answer was lost cannot
-- store a trade twice. Backtests' trades have none.
ALTER TABLE trade_records ADD COLUMN seq INTEGER;
CREATE UNIQUE INDEX trade_records_by_session_seq ON trade_records (session, strategy, seq)
    WHERE seq IS NOT NULL;
