-- Order-book instruments' market data (Hyperliquid perpetuals first):
-- candles and book snapshots, ingested from recordings and REST candle
-- snapshots (`clever ingest --venue hyperliquid`). Prices and sizes are
-- exact decimal strings as the venue writes them (cast to numeric to
-- compute). Both tables are partitioned by time like the odds: day
-- partitions made as rows arrive, or TimescaleDB hypertables where it is
-- installed.
CREATE TABLE perp_candles (
    venue TEXT NOT NULL,
    coin TEXT NOT NULL,
    interval TEXT NOT NULL,
    open_time TIMESTAMPTZ NOT NULL,
    close_time TIMESTAMPTZ NOT NULL,
    open TEXT NOT NULL,
    high TEXT NOT NULL,
    low TEXT NOT NULL,
    close TEXT NOT NULL,
    volume TEXT NOT NULL,
    trades BIGINT NOT NULL,
    PRIMARY KEY (venue, coin, interval, open_time)
) PARTITION BY RANGE (open_time);

CREATE TABLE perp_books (
    venue TEXT NOT NULL,
    coin TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    best_bid TEXT,
    best_bid_size TEXT,
    best_ask TEXT,
    best_ask_size TEXT,
    levels TEXT NOT NULL,
    PRIMARY KEY (venue, coin, at)
) PARTITION BY RANGE (at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM store_settings WHERE key = 'time_series' AND value = 'timescaledb') THEN
        EXECUTE 'DROP TABLE perp_candles';
        EXECUTE 'DROP TABLE perp_books';
        EXECUTE 'CREATE TABLE perp_candles (venue TEXT NOT NULL, coin TEXT NOT NULL,
            interval TEXT NOT NULL, open_time TIMESTAMPTZ NOT NULL, close_time TIMESTAMPTZ NOT NULL,
            open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL,
            volume TEXT NOT NULL, trades BIGINT NOT NULL,
            PRIMARY KEY (venue, coin, interval, open_time))';
        EXECUTE 'CREATE TABLE perp_books (venue TEXT NOT NULL, coin TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL, best_bid TEXT, best_bid_size TEXT, best_ask TEXT,
            best_ask_size TEXT, levels TEXT NOT NULL, PRIMARY KEY (venue, coin, at))';
        EXECUTE 'SELECT create_hypertable(''perp_candles'', ''open_time'', chunk_time_interval => INTERVAL ''7 days'')';
        EXECUTE 'SELECT create_hypertable(''perp_books'', ''at'', chunk_time_interval => INTERVAL ''1 day'')';
    END IF;
END
$$;
