-- Order-book instruments' market data (Hyperliquid perpetuals first):
-- candles and book snapshots, ingested from recordings and REST candle
-- snapshots (`clever ingest --venue hyperliquid`). Prices and sizes are
-- exact decimal strings as the venue writes them; times epoch ms.
CREATE TABLE perp_candles (
    venue TEXT NOT NULL,
    coin TEXT NOT NULL,
    interval TEXT NOT NULL,                  -- 1m, 5m, 1h, ...
    open_time INTEGER NOT NULL,
    close_time INTEGER NOT NULL,
    open TEXT NOT NULL,
    high TEXT NOT NULL,
    low TEXT NOT NULL,
    close TEXT NOT NULL,
    volume TEXT NOT NULL,                    -- in the coin
    trades INTEGER NOT NULL,
    PRIMARY KEY (venue, coin, interval, open_time)
);

CREATE TABLE perp_books (
    venue TEXT NOT NULL,
    coin TEXT NOT NULL,
    at INTEGER NOT NULL,
    best_bid TEXT,
    best_bid_size TEXT,
    best_ask TEXT,
    best_ask_size TEXT,
    levels TEXT NOT NULL,                    -- JSON [[[px, sz], ...bids], [...asks]], best first
    PRIMARY KEY (venue, coin, at)
);
