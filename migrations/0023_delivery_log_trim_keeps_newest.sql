-- The trim of 0022 could take the newest webhook of a source: after 10,000
-- newer GitHub deliveries, Sentry's last row went, and the health page lost
-- when Sentry last sent. The trim now keeps, as retention's prune does
-- (store::retention::PRUNE_DELIVERIES), the row that is its source's newest
-- webhook (the health page's "last verified", store::health's
-- last_webhook): at most one row a source over the bound.
DROP TRIGGER IF EXISTS delivery_log_trim;
CREATE TRIGGER IF NOT EXISTS delivery_log_trim AFTER INSERT ON deliveries
WHEN NEW.id % 16 = 0
BEGIN
    DELETE FROM deliveries WHERE id <= NEW.id - 10000
        AND id != COALESCE((SELECT n.id FROM deliveries AS n
            WHERE n.source = deliveries.source AND n.replay_of IS NULL
            AND COALESCE(n.resource, '') != 'ui_component'
            ORDER BY n.received_at DESC, n.id DESC LIMIT 1), -1);
END;
