-- The plugin registry: published versions (a name and version stand for one
-- component, forever) and the history of which version was active.
ALTER TABLE strategy_versions ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX strategy_versions_published
    ON strategy_versions (strategy, version) WHERE published = 1;
CREATE TABLE strategy_activations (
    id INTEGER PRIMARY KEY,
    strategy INTEGER NOT NULL REFERENCES strategies (id),
    version INTEGER NOT NULL REFERENCES strategy_versions (id),
    activated_at INTEGER NOT NULL
);
CREATE INDEX strategy_activations_by_strategy ON strategy_activations (strategy, id);
