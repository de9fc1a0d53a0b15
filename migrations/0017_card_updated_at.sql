-- A card's `updated_at` moves only when something the board shows changed:
-- a webhook, sync page or re-read that finds the state the card already has
-- leaves it (and so the ETag of GET /api/items) as it was. The upserts keep
-- the old value; this trigger sets it to when the new state was learned.
CREATE TRIGGER IF NOT EXISTS cards_updated_at AFTER UPDATE ON cards
WHEN (OLD.status, OLD.substatus, OLD.title, OLD.culprit, OLD.permalink, OLD.level, OLD.project_id, OLD.project_slug,
      OLD.project_name, OLD.platform, OLD.event_count, OLD.user_count, OLD.first_seen, OLD.last_seen,
      OLD.assignee_type, OLD.assignee_id, OLD.assignee_name, OLD.assignee_email, OLD.installation_uuid, OLD.short_id)
  IS NOT (NEW.status, NEW.substatus, NEW.title, NEW.culprit, NEW.permalink, NEW.level, NEW.project_id, NEW.project_slug,
      NEW.project_name, NEW.platform, NEW.event_count, NEW.user_count, NEW.first_seen, NEW.last_seen,
      NEW.assignee_type, NEW.assignee_id, NEW.assignee_name, NEW.assignee_email, NEW.installation_uuid, NEW.short_id)
BEGIN
    UPDATE cards SET updated_at = MAX(OLD.updated_at, NEW.applied_at) WHERE id = NEW.id;
END;
