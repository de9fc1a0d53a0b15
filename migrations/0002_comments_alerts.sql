-- Comments on issue cards, and alert cards (Sentry `event_alert` and
-- `metric_alert` webhooks). Ids are TEXT and times canonical UTC text, as in
-- 0001. Every row remembers `applied_at`, the time of the newest Sentry state
-- applied to it: an older delivery never overwrites newer state.

-- One row per Sentry comment on an issue that has a card. A deleted comment
-- stays as a tombstone (deleted = 1, text cleared) so that no late or retried
-- created/updated delivery can bring it back.
CREATE TABLE IF NOT EXISTS comments (
    id          TEXT PRIMARY KEY,                 -- Sentry comment id
    issue_id    TEXT NOT NULL,                    -- cards.id
    author      TEXT,
    text        TEXT,                             -- NULL once deleted
    time        TEXT NOT NULL,                    -- when first written
    deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    applied_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS comments_by_issue ON comments (issue_id, time);

-- Alert cards. Event alerts: one per (issue, rule), id
-- 'event_alert:<issue id>:<rule label>'. Metric alerts: one per metric alert
-- (incident) id, id 'metric_alert:<id>'. The board column is derived when
-- read (see src/store.rs): a resolved metric alert, or an event alert whose
-- issue card is resolved, is DONE; anything else is TODO.
CREATE TABLE IF NOT EXISTS alerts (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('event_alert', 'metric_alert')),
    installation_uuid TEXT,
    issue_id          TEXT,                       -- linked Sentry issue (event alerts)
    alert_id          TEXT,                       -- Sentry metric alert id (metric alerts)
    rule              TEXT,                       -- rule label / alert rule name
    title             TEXT NOT NULL,
    detail            TEXT,                       -- event culprit / metric description
    level             TEXT,
    status            TEXT NOT NULL CHECK (status IN ('triggered', 'critical', 'warning', 'resolved')),
    permalink         TEXT,
    project           TEXT,                       -- project slug, when the alert names one
    event_id          TEXT,                       -- newest triggering event (event alerts)
    trigger_count     INTEGER,                    -- distinct triggering events (event alerts)
    first_triggered   TEXT,
    last_triggered    TEXT,
    applied_at        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- Each distinct event that triggered an event alert, so that the count and
-- the first/last times do not depend on delivery order or redelivery.
CREATE TABLE IF NOT EXISTS alert_triggers (
    alert_id     TEXT NOT NULL,                   -- alerts.id
    event_id     TEXT NOT NULL,
    triggered_at TEXT NOT NULL,
    PRIMARY KEY (alert_id, event_id)
);
