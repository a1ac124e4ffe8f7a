-- The order journal: live and paper orders (`run` null) are written before
-- they are sent and kept up to date from the venue, so a restarted host
-- knows every order it has. Each is found by its `customer_ref` (the
-- venue's client order reference), unique among them.
--
-- An order at the exchange under the host's strategy reference that the
-- journal never wrote (placed by another host, or by hand) is adopted
-- with no strategy version. Status may now also be FAILED (sent, never
-- received by the exchange).
ALTER TABLE orders ALTER COLUMN strategy_version DROP NOT NULL;
ALTER TABLE orders ADD COLUMN mode TEXT;           -- live, paper; null in a backtest
ALTER TABLE orders ADD COLUMN strategy_ref TEXT;   -- the host's customerStrategyRef
ALTER TABLE orders ADD COLUMN reason TEXT;         -- why it was refused or failed
CREATE UNIQUE INDEX orders_by_customer_ref ON orders (customer_ref) WHERE run IS NULL;
CREATE INDEX orders_unsettled ON orders (strategy_ref) WHERE run IS NULL AND settled_at IS NULL;
