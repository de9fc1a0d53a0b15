-- The bodies of verified deliveries that could not be used or whose
-- processing failed, kept so they can be read back and replayed
-- (GET /api/deliveries/{id}/body, POST /api/deliveries/{id}/replay). Never
-- for unverified requests; at most 256 KB each; deleted after 7 days by the
-- daily retention, and with their delivery-log row.
ALTER TABLE deliveries ADD COLUMN replay_of INTEGER;

CREATE TABLE IF NOT EXISTS delivery_bodies (
    delivery_id INTEGER PRIMARY KEY,
    -- The exact bytes, hex: D1 carries no BLOB through the JS bindings.
    body_hex    TEXT NOT NULL,
    kept_until  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS delivery_bodies_by_expiry ON delivery_bodies (kept_until);
