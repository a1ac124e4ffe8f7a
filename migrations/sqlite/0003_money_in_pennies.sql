-- Money as whole pennies (minor units) in integer columns, so every stored
-- figure and every sum the database takes is exact; the column names say
-- the unit. Prices, odds and ratios (price, average_price_matched, roi)
-- stay floating point. Existing figures were whole pennies written as
-- doubles: rounding them to the nearest penny (half away from zero, as
-- Money does) recovers them exactly.
--
-- SQLite cannot change a column's type: each column is added, filled and
-- the old one dropped (none of them is in an index or a key).

ALTER TABLE backtest_results ADD COLUMN matched_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backtest_results ADD COLUMN gross_profit_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backtest_results ADD COLUMN commission_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backtest_results ADD COLUMN profit_pennies INTEGER NOT NULL DEFAULT 0;
UPDATE backtest_results SET
    matched_pennies = CAST(round(matched * 100) AS INTEGER),
    gross_profit_pennies = CAST(round(gross_profit * 100) AS INTEGER),
    commission_pennies = CAST(round(commission * 100) AS INTEGER),
    profit_pennies = CAST(round(profit * 100) AS INTEGER);
ALTER TABLE backtest_results DROP COLUMN matched;
ALTER TABLE backtest_results DROP COLUMN gross_profit;
ALTER TABLE backtest_results DROP COLUMN commission;
ALTER TABLE backtest_results DROP COLUMN profit;

ALTER TABLE orders ADD COLUMN size_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN size_matched_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN size_cancelled_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN size_lapsed_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN size_voided_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN profit_pennies INTEGER;
ALTER TABLE orders ADD COLUMN commission_pennies INTEGER;
UPDATE orders SET
    size_pennies = CAST(round(size * 100) AS INTEGER),
    size_matched_pennies = CAST(round(size_matched * 100) AS INTEGER),
    size_cancelled_pennies = CAST(round(size_cancelled * 100) AS INTEGER),
    size_lapsed_pennies = CAST(round(size_lapsed * 100) AS INTEGER),
    size_voided_pennies = CAST(round(size_voided * 100) AS INTEGER),
    profit_pennies = CAST(round(profit * 100) AS INTEGER),
    commission_pennies = CAST(round(commission * 100) AS INTEGER);
ALTER TABLE orders DROP COLUMN size;
ALTER TABLE orders DROP COLUMN size_matched;
ALTER TABLE orders DROP COLUMN size_cancelled;
ALTER TABLE orders DROP COLUMN size_lapsed;
ALTER TABLE orders DROP COLUMN size_voided;
ALTER TABLE orders DROP COLUMN profit;
ALTER TABLE orders DROP COLUMN commission;

-- An event's amount: the stake placed, matched, cancelled, lapsed or
-- voided, or the profit settled.
ALTER TABLE order_events ADD COLUMN amount_pennies INTEGER;
UPDATE order_events SET amount_pennies = CAST(round(size * 100) AS INTEGER);
ALTER TABLE order_events DROP COLUMN size;

ALTER TABLE strategy_performance_hourly ADD COLUMN matched_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE strategy_performance_hourly ADD COLUMN gross_profit_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE strategy_performance_hourly ADD COLUMN commission_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE strategy_performance_hourly ADD COLUMN profit_pennies INTEGER NOT NULL DEFAULT 0;
UPDATE strategy_performance_hourly SET
    matched_pennies = CAST(round(matched * 100) AS INTEGER),
    gross_profit_pennies = CAST(round(gross_profit * 100) AS INTEGER),
    commission_pennies = CAST(round(commission * 100) AS INTEGER),
    profit_pennies = CAST(round(profit * 100) AS INTEGER);
ALTER TABLE strategy_performance_hourly DROP COLUMN matched;
ALTER TABLE strategy_performance_hourly DROP COLUMN gross_profit;
ALTER TABLE strategy_performance_hourly DROP COLUMN commission;
ALTER TABLE strategy_performance_hourly DROP COLUMN profit;

ALTER TABLE strategy_performance_daily ADD COLUMN matched_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE strategy_performance_daily ADD COLUMN gross_profit_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE strategy_performance_daily ADD COLUMN commission_pennies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE strategy_performance_daily ADD COLUMN profit_pennies INTEGER NOT NULL DEFAULT 0;
UPDATE strategy_performance_daily SET
    matched_pennies = CAST(round(matched * 100) AS INTEGER),
    gross_profit_pennies = CAST(round(gross_profit * 100) AS INTEGER),
    commission_pennies = CAST(round(commission * 100) AS INTEGER),
    profit_pennies = CAST(round(profit * 100) AS INTEGER);
ALTER TABLE strategy_performance_daily DROP COLUMN matched;
ALTER TABLE strategy_performance_daily DROP COLUMN gross_profit;
ALTER TABLE strategy_performance_daily DROP COLUMN commission;
ALTER TABLE strategy_performance_daily DROP COLUMN profit;
