-- Delivery semantics (webhooks are hints, the API is the truth).
--
-- The exact-replay check looks a delivery up by its Request-ID.
CREATE INDEX IF NOT EXISTS deliveries_by_request ON deliveries (request_id) WHERE request_id IS NOT NULL;

-- One row per issue whose authoritative re-read (GET of the issue, and of its
-- comments when `comments` = 1) is queued or running. Deliveries arriving
-- meanwhile only move `requested_at`; the job removes the row when nothing
-- was requested after it started reading (else it reads once more), so at
-- most one job is in flight. `queued_at`: when that job was queued; a job
-- lost for longer than the stale limit is replaced by the next request.
CREATE TABLE IF NOT EXISTS rereads (
    issue_id          TEXT PRIMARY KEY,
    installation_uuid TEXT,
    comments          INTEGER NOT NULL DEFAULT 0,
    requested_at      TEXT NOT NULL,
    queued_at         TEXT NOT NULL,
    -- Which request queued that job (a token of the delivery, or 'job …'
    -- for a job's own follow-up): only that request is told to queue it.
    queued_by         TEXT NOT NULL DEFAULT ''
);

-- Requests refused before their signature could be trusted (bad or missing
-- signature, bearer, oversized body). A fixed ring of REJECTION_SLOTS rows:
-- unauthenticated traffic can never grow storage or push a verified
-- delivery out of the replay window. Every stored text is capped.
CREATE TABLE IF NOT EXISTS rejections (
    slot        INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    source      TEXT NOT NULL,
    resource    TEXT,
    request_id  TEXT,
    verdict     TEXT NOT NULL,
    status      INTEGER NOT NULL,
    error       TEXT
);
