-- The error log bounded by the groups, not by the traffic (issue 18). A
-- group's counts were already kept apart from its events: event_count in
-- error_groups and the hourly buckets in error_hourly, added by every batch
-- since 0005 (a committed batch leaves no event uncounted). What grew with
-- the traffic was error_events, one row per event. From here on it is a
-- sample: the newest 50 events of each group (store::errors::SAMPLE_PER_GROUP,
-- what /api/errors/{group} lists); older events are summarised by the counts.

-- Every distinct event, by the day (since 1970-01-01) of its time and its id,
-- so that a redelivery counts once after its event left the sample. Keys sort
-- by day, so retention deletes whole days as one range.
CREATE TABLE IF NOT EXISTS error_seen (
    day      INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (day, event_id)
) WITHOUT ROWID;

-- The events stored so far are known (the same key as store::errors::ADD_SEEN).
INSERT INTO error_seen (day, event_id)
SELECT COALESCE(CAST(julianday(substr(time, 1, 10)) - 2440587.5 AS INTEGER), 0), event_id FROM error_events WHERE true
ON CONFLICT DO NOTHING;

-- Then each group keeps its newest 50 (store::errors::RECENT_EVENTS' order).
DELETE FROM error_events WHERE event_id IN (SELECT event_id FROM (
        SELECT event_id, ROW_NUMBER() OVER (PARTITION BY issue_id ORDER BY time DESC, event_id) AS n
        FROM error_events)
    WHERE n > 50);

-- The sample in RECENT_EVENTS' order, covering: a trim (TRIM_SAMPLES) finds a
-- group's 50th newest event and the older ones without a sort.
DROP INDEX IF EXISTS error_events_by_issue;
CREATE INDEX IF NOT EXISTS error_events_newest ON error_events (issue_id, time DESC, event_id);
