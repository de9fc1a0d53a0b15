-- Sentry integration installations (one per organization that installed the
-- app), their API tokens, the organization members the integration can see,
-- Sentry issue links made from the UI component, and queue jobs.
-- Cards and alerts belong to an installation through installation_uuid; the
-- organization filter on /api/items joins through this table.

CREATE TABLE IF NOT EXISTS installations (
    uuid        TEXT PRIMARY KEY,
    org_slug    TEXT,
    org_id      TEXT,
    app_slug    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'installed', 'deleted')),
    -- 'public': OAuth code exchange; 'internal': SENTRY_AUTH_TOKEN, no exchange.
    mode        TEXT NOT NULL DEFAULT 'public' CHECK (mode IN ('public', 'internal')),
    -- One-time grant code from installation.created; cleared once exchanged.
    grant_code  TEXT,
    -- Last job failure for this installation (NULL once a job succeeds), so a
    -- failed token exchange is visible on the board and in /api/installations.
    error       TEXT,
    error_at    TEXT,
    applied_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS installations_by_org ON installations (org_slug);

-- The installation's current token. Refreshes are single-flight: a job must
-- first take the lease (refresh_lease_until in the future) by a conditional
-- UPDATE; every other job waits and rereads.
CREATE TABLE IF NOT EXISTS installation_tokens (
    installation_uuid   TEXT PRIMARY KEY,
    token               TEXT NOT NULL,
    refresh_token       TEXT,
    expires_at          TEXT,
    refresh_lease_until TEXT,
    updated_at          TEXT NOT NULL
);

-- Organization members as Sentry lists them (member id is the
-- OrganizationMember id, not the user id).
CREATE TABLE IF NOT EXISTS members (
    installation_uuid TEXT NOT NULL,
    member_id         TEXT NOT NULL,
    user_id           TEXT,
    name              TEXT,
    email             TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (installation_uuid, member_id)
);

-- Sentry issue → board card links made through the issue-link component.
CREATE TABLE IF NOT EXISTS issue_links (
    issue_id          TEXT NOT NULL,
    card_id           TEXT NOT NULL,
    installation_uuid TEXT,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (issue_id, card_id)
);

-- One row per queue message (id = message id, stable across retries): the
-- attempt counter the Queues API does not expose, and the job's fate.
CREATE TABLE IF NOT EXISTS jobs (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    installation_uuid TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL CHECK (status IN ('running', 'retrying', 'done', 'failed', 'dead')),
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS jobs_by_installation ON jobs (installation_uuid, updated_at);
