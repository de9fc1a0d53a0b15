-- The baseline's one table: a row per accepted delivery.
CREATE TABLE webhook_events (
    delivery TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    object_id TEXT NOT NULL,
    title TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
