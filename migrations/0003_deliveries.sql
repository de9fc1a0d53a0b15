-- Every webhook delivery, accepted or rejected. Bounded: each insert trims the
-- table to the newest rows (see store::TRIM_DELIVERIES), so it doubles as the
-- replay window: a verbatim body already accepted inside it is not applied again.
CREATE TABLE IF NOT EXISTS deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    source      TEXT NOT NULL,              -- 'sentry' | 'github'
    resource    TEXT,
    action      TEXT,
    request_id  TEXT,
    body_sha256 TEXT,                       -- set only once the signature verified
    verdict     TEXT NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  INTEGER,
    error       TEXT
);

CREATE INDEX IF NOT EXISTS deliveries_by_body ON deliveries (body_sha256, source, resource)
    WHERE body_sha256 IS NOT NULL;
