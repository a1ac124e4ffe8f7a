-- Alerts as the host raises them (a rule over a plugin's signal, or the
-- host's own event), and the outbox that delivers each to every webhook:
-- written with the alert in one transaction, marked sent with the time,
-- retried with backoff until it is, or until its attempts run out.
ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT 'signal';  -- signal, host
ALTER TABLE alerts ADD COLUMN strategy TEXT;
ALTER TABLE alerts ADD COLUMN threshold DOUBLE PRECISION;
ALTER TABLE alerts ADD COLUMN raised_at TIMESTAMPTZ;                   -- on the host's clock (market time)
CREATE TABLE alert_deliveries (
    alert BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    webhook TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    failed_at TIMESTAMPTZ,
    last_error TEXT,
    PRIMARY KEY (alert, webhook)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE sent_at IS NULL AND failed_at IS NULL;
