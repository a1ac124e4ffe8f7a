-- A saved run's analytics per strategy version, as JSON documents: the
-- metrics (docs/METRICS.md) and, when asked for, the Monte Carlo
-- resampling. Null for runs saved before them.
ALTER TABLE backtest_results ADD COLUMN metrics TEXT;
ALTER TABLE backtest_results ADD COLUMN monte_carlo TEXT;

-- A parameter sweep (`clever sweep --save`): one run per parameter set.
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    config TEXT NOT NULL                     -- JSON: plugin, data, grids, rank_by
);
ALTER TABLE backtest_runs ADD COLUMN sweep INTEGER REFERENCES sweeps (id) ON DELETE CASCADE;
CREATE INDEX backtest_runs_sweep ON backtest_runs (sweep);
