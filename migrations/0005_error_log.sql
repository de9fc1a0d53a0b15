-- The error log: every Sentry error event, grouped by Sentry issue. Events
-- arrive through the queue (never written on the webhook's ack path) and are
-- written a whole queue batch at a time.

-- One group per Sentry issue. Counts and first/last seen are derived from
-- the distinct events (error_events), so a redelivered event counts once.
-- Status follows the issue webhooks (and the cron sync); status_at orders
-- them like cards.applied_at.
CREATE TABLE IF NOT EXISTS error_groups (
    issue_id          TEXT PRIMARY KEY,
    installation_uuid TEXT,
    title             TEXT NOT NULL,
    culprit           TEXT,
    level             TEXT,
    platform          TEXT,
    project           TEXT,
    environment       TEXT,
    release           TEXT,
    status            TEXT NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED', 'IGNORED')),
    status_at         TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000Z',
    event_count       INTEGER NOT NULL DEFAULT 0,
    first_seen        TEXT,
    last_seen         TEXT,
    web_url           TEXT,
    -- The newest event, sanitised (no cookies, headers, IP address or body).
    sample            TEXT,
    sample_at         TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS error_groups_by_last_seen ON error_groups (last_seen DESC);

-- One row per Sentry event id. `counted` is 0 until the batch that inserted
-- it has added it to its group's count and hourly bucket.
CREATE TABLE IF NOT EXISTS error_events (
    event_id    TEXT PRIMARY KEY,
    issue_id    TEXT NOT NULL,
    time        TEXT NOT NULL,
    level       TEXT,
    environment TEXT,
    release     TEXT,
    counted     INTEGER NOT NULL DEFAULT 0 CHECK (counted IN (0, 1))
);

CREATE INDEX IF NOT EXISTS error_events_by_issue ON error_events (issue_id, time DESC);
CREATE INDEX IF NOT EXISTS error_events_uncounted ON error_events (issue_id) WHERE counted = 0;

-- Events per group per hour ('YYYY-MM-DDTHH'), for trends.
CREATE TABLE IF NOT EXISTS error_hourly (
    issue_id TEXT NOT NULL,
    hour     TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (issue_id, hour)
);
