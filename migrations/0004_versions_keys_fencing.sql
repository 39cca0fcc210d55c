-- Versions, keys and fencing (see docs/reliability.md).
--
-- * A write on top of a version always yields a strictly newer version: the touch stamps
--   max(now, previous + 1 µs), so a version from a clock running ahead never makes a later
--   edge write lose, and two writes in one millisecond are still two outbox entries.
-- * A delete is recorded as happening after the version it deleted, for the same reason.
-- * Keys are canonical: an upper-case key is refused at write time (D1 compares text exactly;
--   Postgres returns lower case, so 'ABC…' and 'abc…' would become two rows).
-- * sync_fence: the newest lease epoch that wrote per entity. Every engine batch starts by
--   upserting its epoch here; the trigger fails the whole batch when a newer run has written.

CREATE TABLE IF NOT EXISTS sync_fence (
  entity TEXT PRIMARY KEY,
  epoch  INTEGER NOT NULL
);

CREATE TRIGGER IF NOT EXISTS sync_fence_monotonic BEFORE UPDATE ON sync_fence
WHEN NEW.epoch < OLD.epoch
BEGIN
  SELECT RAISE(ABORT, 'sync_fenced: a newer run of this entity holds the lease');
END;

-- The touch and the delete record: previous + 1 µs in canonical text, when that beats now.
DROP TRIGGER IF EXISTS emails_touch_updated_at;
CREATE TRIGGER emails_touch_updated_at AFTER UPDATE ON emails
WHEN NEW.updated_at IS OLD.updated_at
 AND (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  UPDATE emails SET updated_at = max(
    strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z',
    coalesce(CASE WHEN substr(OLD.updated_at, 21, 6) < '999999'
                  THEN substr(OLD.updated_at, 1, 20) || printf('%06d', CAST(substr(OLD.updated_at, 21, 6) AS INTEGER) + 1) || 'Z'
                  ELSE strftime('%Y-%m-%dT%H:%M:%S', substr(OLD.updated_at, 1, 19), '+1 second') || '.000000Z' END, ''))
  WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS prospects_touch_updated_at;
CREATE TRIGGER prospects_touch_updated_at AFTER UPDATE ON prospects
WHEN NEW.updated_at IS OLD.updated_at
 AND (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  UPDATE prospects SET updated_at = max(
    strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z',
    coalesce(CASE WHEN substr(OLD.updated_at, 21, 6) < '999999'
                  THEN substr(OLD.updated_at, 1, 20) || printf('%06d', CAST(substr(OLD.updated_at, 21, 6) AS INTEGER) + 1) || 'Z'
                  ELSE strftime('%Y-%m-%dT%H:%M:%S', substr(OLD.updated_at, 1, 19), '+1 second') || '.000000Z' END, ''))
  WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS emails_outbox_delete;
CREATE TRIGGER emails_outbox_delete AFTER DELETE ON emails
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op, changed_at) VALUES ('emails', OLD.id, 'delete', max(
    strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z',
    coalesce(CASE WHEN substr(OLD.updated_at, 21, 6) < '999999'
                  THEN substr(OLD.updated_at, 1, 20) || printf('%06d', CAST(substr(OLD.updated_at, 21, 6) AS INTEGER) + 1) || 'Z'
                  ELSE strftime('%Y-%m-%dT%H:%M:%S', substr(OLD.updated_at, 1, 19), '+1 second') || '.000000Z' END, '')));
END;

DROP TRIGGER IF EXISTS prospects_outbox_delete;
CREATE TRIGGER prospects_outbox_delete AFTER DELETE ON prospects
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op, changed_at) VALUES ('prospects', OLD.id, 'delete', max(
    strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z',
    coalesce(CASE WHEN substr(OLD.updated_at, 21, 6) < '999999'
                  THEN substr(OLD.updated_at, 1, 20) || printf('%06d', CAST(substr(OLD.updated_at, 21, 6) AS INTEGER) + 1) || 'Z'
                  ELSE strftime('%Y-%m-%dT%H:%M:%S', substr(OLD.updated_at, 1, 19), '+1 second') || '.000000Z' END, '')));
END;

-- Canonical keys, refused with a message that says what to do.
CREATE TRIGGER IF NOT EXISTS prospects_canonical_key_insert BEFORE INSERT ON prospects
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'prospects.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS prospects_canonical_key_update BEFORE UPDATE OF id ON prospects
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'prospects.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS campaigns_canonical_key_insert BEFORE INSERT ON campaigns
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'campaigns.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS campaigns_canonical_key_update BEFORE UPDATE OF id ON campaigns
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'campaigns.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS mailboxes_canonical_key_insert BEFORE INSERT ON mailboxes
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'mailboxes.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS mailboxes_canonical_key_update BEFORE UPDATE OF id ON mailboxes
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'mailboxes.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS emails_canonical_key_insert BEFORE INSERT ON emails
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'emails.id must be lower case (canonical uuid): write lower(id)');
END;
CREATE TRIGGER IF NOT EXISTS emails_canonical_key_update BEFORE UPDATE OF id ON emails
WHEN NEW.id IS NOT lower(NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'emails.id must be lower case (canonical uuid): write lower(id)');
END;
