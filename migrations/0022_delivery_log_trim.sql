-- The delivery log keeps its newest 10,000 verified deliveries
-- (store::deliveries::DELIVERY_LOG_ROWS). The trim runs inside every 16th
-- insert, by the row's own id, instead of as a statement of each ack: the
-- ack's batch carries one statement fewer, and the bound holds whatever the
-- senders send (at most 15 rows over).
CREATE TRIGGER IF NOT EXISTS delivery_log_trim AFTER INSERT ON deliveries
WHEN NEW.id % 16 = 0
BEGIN
    DELETE FROM deliveries WHERE id <= NEW.id - 10000;
END;
