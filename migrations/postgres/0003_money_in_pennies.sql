-- Money as whole pennies (minor units) in BIGINT columns, so every stored
-- figure and every sum the database takes is exact; the column names say
-- the unit. Prices, odds and ratios (price, average_price_matched, roi)
-- stay floating point. Existing figures were whole pennies written as
-- doubles: rounding them to the nearest penny (as numeric, so half away
-- from zero, as Money does) recovers them exactly.

ALTER TABLE backtest_results RENAME COLUMN matched TO matched_pennies;
ALTER TABLE backtest_results RENAME COLUMN gross_profit TO gross_profit_pennies;
ALTER TABLE backtest_results RENAME COLUMN commission TO commission_pennies;
ALTER TABLE backtest_results RENAME COLUMN profit TO profit_pennies;
ALTER TABLE backtest_results
    ALTER COLUMN matched_pennies TYPE BIGINT USING round(matched_pennies::numeric * 100)::bigint,
    ALTER COLUMN gross_profit_pennies TYPE BIGINT USING round(gross_profit_pennies::numeric * 100)::bigint,
    ALTER COLUMN commission_pennies TYPE BIGINT USING round(commission_pennies::numeric * 100)::bigint,
    ALTER COLUMN profit_pennies TYPE BIGINT USING round(profit_pennies::numeric * 100)::bigint;

ALTER TABLE orders RENAME COLUMN size TO size_pennies;
ALTER TABLE orders RENAME COLUMN size_matched TO size_matched_pennies;
ALTER TABLE orders RENAME COLUMN size_cancelled TO size_cancelled_pennies;
ALTER TABLE orders RENAME COLUMN size_lapsed TO size_lapsed_pennies;
ALTER TABLE orders RENAME COLUMN size_voided TO size_voided_pennies;
ALTER TABLE orders RENAME COLUMN profit TO profit_pennies;
ALTER TABLE orders RENAME COLUMN commission TO commission_pennies;
ALTER TABLE orders
    ALTER COLUMN size_pennies TYPE BIGINT USING round(size_pennies::numeric * 100)::bigint,
    ALTER COLUMN size_matched_pennies TYPE BIGINT USING round(size_matched_pennies::numeric * 100)::bigint,
    ALTER COLUMN size_cancelled_pennies TYPE BIGINT USING round(size_cancelled_pennies::numeric * 100)::bigint,
    ALTER COLUMN size_lapsed_pennies TYPE BIGINT USING round(size_lapsed_pennies::numeric * 100)::bigint,
    ALTER COLUMN size_voided_pennies TYPE BIGINT USING round(size_voided_pennies::numeric * 100)::bigint,
    ALTER COLUMN profit_pennies TYPE BIGINT USING round(profit_pennies::numeric * 100)::bigint,
    ALTER COLUMN commission_pennies TYPE BIGINT USING round(commission_pennies::numeric * 100)::bigint;

-- An event's amount: the stake placed, matched, cancelled, lapsed or
-- voided, or the profit settled.
ALTER TABLE order_events RENAME COLUMN size TO amount_pennies;
ALTER TABLE order_events
    ALTER COLUMN amount_pennies TYPE BIGINT USING round(amount_pennies::numeric * 100)::bigint;

-- Under TimescaleDB the daily roll-up is a continuous aggregate over the
-- hours: it is dropped while the hours change type, then made again. A
-- continuous aggregate cannot be filled inside a transaction or a DO
-- block, so it is made WITH NO DATA and reads the hours directly
-- (materialized_only = false) until a refresh. Untested here: no machine
-- of this project has TimescaleDB.
DO $$
DECLARE
    aggregate BOOLEAN := EXISTS (
        SELECT 1 FROM store_settings WHERE key = 'time_series' AND value = 'timescaledb');
BEGIN
    IF aggregate THEN
        EXECUTE 'DROP MATERIALIZED VIEW strategy_performance_daily';
    END IF;
    ALTER TABLE strategy_performance_hourly RENAME COLUMN matched TO matched_pennies;
    ALTER TABLE strategy_performance_hourly RENAME COLUMN gross_profit TO gross_profit_pennies;
    ALTER TABLE strategy_performance_hourly RENAME COLUMN commission TO commission_pennies;
    ALTER TABLE strategy_performance_hourly RENAME COLUMN profit TO profit_pennies;
    ALTER TABLE strategy_performance_hourly
        ALTER COLUMN matched_pennies TYPE BIGINT USING round(matched_pennies::numeric * 100)::bigint,
        ALTER COLUMN gross_profit_pennies TYPE BIGINT USING round(gross_profit_pennies::numeric * 100)::bigint,
        ALTER COLUMN commission_pennies TYPE BIGINT USING round(commission_pennies::numeric * 100)::bigint,
        ALTER COLUMN profit_pennies TYPE BIGINT USING round(profit_pennies::numeric * 100)::bigint;
    IF aggregate THEN
        EXECUTE 'CREATE MATERIALIZED VIEW strategy_performance_daily
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT strategy_version, time_bucket(INTERVAL ''1 day'', hour) AS day,
                   sum(orders)::bigint AS orders,
                   sum(matched_pennies)::bigint AS matched_pennies,
                   sum(gross_profit_pennies)::bigint AS gross_profit_pennies,
                   sum(commission_pennies)::bigint AS commission_pennies,
                   sum(profit_pennies)::bigint AS profit_pennies
            FROM strategy_performance_hourly
            GROUP BY strategy_version, time_bucket(INTERVAL ''1 day'', hour)
            WITH NO DATA';
    ELSE
        ALTER TABLE strategy_performance_daily RENAME COLUMN matched TO matched_pennies;
        ALTER TABLE strategy_performance_daily RENAME COLUMN gross_profit TO gross_profit_pennies;
        ALTER TABLE strategy_performance_daily RENAME COLUMN commission TO commission_pennies;
        ALTER TABLE strategy_performance_daily RENAME COLUMN profit TO profit_pennies;
        ALTER TABLE strategy_performance_daily
            ALTER COLUMN matched_pennies TYPE BIGINT USING round(matched_pennies::numeric * 100)::bigint,
            ALTER COLUMN gross_profit_pennies TYPE BIGINT USING round(gross_profit_pennies::numeric * 100)::bigint,
            ALTER COLUMN commission_pennies TYPE BIGINT USING round(commission_pennies::numeric * 100)::bigint,
            ALTER COLUMN profit_pennies TYPE BIGINT USING round(profit_pennies::numeric * 100)::bigint;
    END IF;
END
$$;
