-- The features a model scored a runner from, as JSON, kept beside each
-- prediction (`clever predictions import`, `POST /predictions`); and an
-- index to read a market's predictions in time order.
ALTER TABLE predictions ADD COLUMN features TEXT;
CREATE INDEX predictions_by_market ON predictions (market, published_at);
