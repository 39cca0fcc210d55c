-- Outbox triggers for the pushed tables: emails (push) and prospects (both directions).
-- Application writers need no cooperation: no flag to set, deletes included.
-- An edge UPDATE that leaves updated_at unchanged gets it bumped, so last-write-wins sees it;
-- the outbox records that bump's UPDATE, not the first one, so one write is one outbox entry.

CREATE TRIGGER IF NOT EXISTS emails_outbox_insert AFTER INSERT ON emails
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op) VALUES ('emails', NEW.id, 'upsert');
END;

CREATE TRIGGER IF NOT EXISTS emails_outbox_update AFTER UPDATE ON emails
WHEN NEW.updated_at IS NOT OLD.updated_at
 AND (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op) VALUES ('emails', NEW.id, 'upsert');
END;

CREATE TRIGGER IF NOT EXISTS emails_outbox_delete AFTER DELETE ON emails
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op) VALUES ('emails', OLD.id, 'delete');
END;

CREATE TRIGGER IF NOT EXISTS emails_touch_updated_at AFTER UPDATE ON emails
WHEN NEW.updated_at IS OLD.updated_at
 AND (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  UPDATE emails SET updated_at = strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z' WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS prospects_outbox_insert AFTER INSERT ON prospects
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op) VALUES ('prospects', NEW.id, 'upsert');
END;

CREATE TRIGGER IF NOT EXISTS prospects_outbox_update AFTER UPDATE ON prospects
WHEN NEW.updated_at IS NOT OLD.updated_at
 AND (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op) VALUES ('prospects', NEW.id, 'upsert');
END;

CREATE TRIGGER IF NOT EXISTS prospects_outbox_delete AFTER DELETE ON prospects
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op) VALUES ('prospects', OLD.id, 'delete');
END;

CREATE TRIGGER IF NOT EXISTS prospects_touch_updated_at AFTER UPDATE ON prospects
WHEN NEW.updated_at IS OLD.updated_at
 AND (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  UPDATE prospects SET updated_at = strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z' WHERE id = NEW.id;
END;
