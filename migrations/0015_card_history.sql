-- Issue 20, part 4: a card's history, for GET /api/items/{id}/history.
--
-- One row per change to what the board shows of an issue card: its column
-- (TODO/DOING/DONE, derived as in store::LIST_ITEMS), whether it is
-- ignored, its assignee (who, not how the name is spelled) and its
-- substatus, and its priority. The rows are written by a trigger comparing OLD and NEW, in the
-- statement that changes the card, so no write path adds a statement or a
-- round trip, and only real changes show: a repeated delivery, a birth that
-- fills nothing, a snapshot held back by a pending write-back or by the
-- order guard changes nothing and records nothing.
--
-- Who and why: every statement that can change those fields (the card
-- upsert, the birth certificate, the board change) also writes the
-- `last_*` columns below from its own parameters: `last_source` is
-- 'sentry' (webhook) | 'sync' | 'reread' | 'board' (NULL: not said),
-- `last_action` the webhook action, 'sync', 'reread' or the board's verb,
-- `last_actor` the webhook's actor.name or the board's user, `last_at` the
-- time of the write. A new statement that changes these fields must set
-- them too, or its changes are recorded under the previous writer's name.
ALTER TABLE cards ADD COLUMN last_source TEXT;
ALTER TABLE cards ADD COLUMN last_action TEXT;
ALTER TABLE cards ADD COLUMN last_actor TEXT;
ALTER TABLE cards ADD COLUMN last_at TEXT;

CREATE TABLE IF NOT EXISTS card_history (
    seq        INTEGER PRIMARY KEY,       -- order of the changes
    card_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    source     TEXT,
    action     TEXT,
    actor      TEXT,
    field      TEXT NOT NULL,             -- 'column' | 'ignored' | 'assignee' | 'substatus' | 'priority'
    from_value TEXT,                      -- in words; NULL: none
    to_value   TEXT
);

CREATE INDEX IF NOT EXISTS card_history_by_card ON card_history (card_id, seq);

-- The fields the board shows. An assignee is compared by identity (type and
-- id, or name without an id, as board::Assignee::key) and shown by name.
CREATE TRIGGER IF NOT EXISTS card_history_fields
AFTER UPDATE OF status, substatus, assignee_type, assignee_id, assignee_name ON cards
WHEN OLD.status IS NOT NEW.status
    OR OLD.substatus IS NOT NEW.substatus
    OR OLD.assignee_type IS NOT NEW.assignee_type
    OR COALESCE(OLD.assignee_id, OLD.assignee_name) IS NOT COALESCE(NEW.assignee_id, NEW.assignee_name)
BEGIN
    INSERT INTO card_history (card_id, at, source, action, actor, field, from_value, to_value)
    SELECT NEW.id, COALESCE(NEW.last_at, NEW.updated_at), NEW.last_source, NEW.last_action, NEW.last_actor,
        field, from_value, to_value
    FROM (
        SELECT 1 AS n, 'column' AS field,
            CASE WHEN OLD.status = 'resolved' THEN 'DONE'
                 WHEN OLD.assignee_id IS NOT NULL OR OLD.assignee_name IS NOT NULL THEN 'DOING'
                 ELSE 'TODO' END AS from_value,
            CASE WHEN NEW.status = 'resolved' THEN 'DONE'
                 WHEN NEW.assignee_id IS NOT NULL OR NEW.assignee_name IS NOT NULL THEN 'DOING'
                 ELSE 'TODO' END AS to_value,
            NULL AS changed
        UNION ALL
        SELECT 2, 'ignored',
            CASE WHEN OLD.status = 'ignored' THEN 'ignored' ELSE 'not ignored' END,
            CASE WHEN NEW.status = 'ignored' THEN 'ignored' ELSE 'not ignored' END,
            NULL
        UNION ALL
        SELECT 3, 'assignee',
            COALESCE(OLD.assignee_name, OLD.assignee_email, OLD.assignee_id),
            COALESCE(NEW.assignee_name, NEW.assignee_email, NEW.assignee_id),
            OLD.assignee_type IS NOT NEW.assignee_type
                OR COALESCE(OLD.assignee_id, OLD.assignee_name) IS NOT COALESCE(NEW.assignee_id, NEW.assignee_name)
        UNION ALL
        SELECT 4, 'substatus', OLD.substatus, NEW.substatus, NULL
    )
    WHERE COALESCE(changed, from_value IS NOT to_value)
    ORDER BY n;
END;

-- Bounded: a card keeps its newest 100 entries, pruned by the insert that
-- makes the 101st (so in the same statement, for any field's trigger).
CREATE TRIGGER IF NOT EXISTS card_history_bound
AFTER INSERT ON card_history
BEGIN
    DELETE FROM card_history WHERE card_id = NEW.card_id AND seq <= (
        SELECT seq FROM card_history WHERE card_id = NEW.card_id ORDER BY seq DESC LIMIT 1 OFFSET 100);
END;

-- A card that goes takes its history with it.
CREATE TRIGGER IF NOT EXISTS card_history_gone
AFTER DELETE ON cards
BEGIN
    DELETE FROM card_history WHERE card_id = OLD.id;
END;

-- Priority (issue 20, part 3, migrations/0013): its own trigger, so a field
-- the board adds later joins the same way (and the same bound).
CREATE TRIGGER IF NOT EXISTS card_history_priority
AFTER UPDATE OF priority ON cards
WHEN OLD.priority IS NOT NEW.priority
BEGIN
    INSERT INTO card_history (card_id, at, source, action, actor, field, from_value, to_value)
    VALUES (NEW.id, COALESCE(NEW.last_at, NEW.updated_at), NEW.last_source, NEW.last_action, NEW.last_actor,
        'priority', OLD.priority, NEW.priority);
END;
