-- Kanban cards, one per Sentry issue. Ids are TEXT: D1 cannot carry 64-bit
-- integers through JS. Times are canonical UTC text (YYYY-MM-DDTHH:MM:SS.mmmZ),
-- which sorts correctly as text.
--
-- The column (TODO/DOING/DONE) and the ignored flag are not stored: they are
-- derived from status and assignee when read (see src/store.rs), so they can
-- never disagree with Sentry's own state.
CREATE TABLE IF NOT EXISTS cards (
    id                TEXT PRIMARY KEY,           -- Sentry issue id
    installation_uuid TEXT,
    short_id          TEXT,
    title             TEXT NOT NULL,
    culprit           TEXT,
    permalink         TEXT,
    level             TEXT,
    status            TEXT NOT NULL CHECK (status IN ('unresolved', 'resolved', 'ignored')),
    substatus         TEXT,
    project_id        TEXT,
    project_slug      TEXT,
    project_name      TEXT,
    platform          TEXT,
    event_count       TEXT,                       -- Sentry sends counts as strings
    user_count        INTEGER,
    first_seen        TEXT,
    last_seen         TEXT,
    assignee_type     TEXT,                       -- 'user' | 'team'
    assignee_id       TEXT,
    assignee_name     TEXT,
    assignee_email    TEXT,
    -- Time of the newest Sentry state applied; an older delivery never wins.
    applied_at        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS cards_by_last_seen ON cards (last_seen DESC);
