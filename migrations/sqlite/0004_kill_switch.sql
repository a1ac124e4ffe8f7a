-- The kill switch, held across restarts until it is released: one row
-- while it is on, with when it was pulled (epoch ms).
CREATE TABLE kill_switch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    engaged_at BIGINT NOT NULL
);
