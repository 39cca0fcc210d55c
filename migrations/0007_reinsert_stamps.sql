-- A key re-inserted at the edge after its delete is a write on top of that delete: its version
-- must be newer than the delete's, as every other edge write is newer than the version it
-- replaces (0004). Without this a clock that ran ahead leaves the delete's stamp in the future,
-- the re-insert gets the wall clock (older), and the push, which sends the row's current state,
-- loses the delete's version: Supabase's older row won against both edge writes (convergence
-- soak, seed 312). Supabase's sync_private.stamp_reinsert does the same on its side. When the
-- delete was already pushed (its outbox entry pruned), Supabase's tombstone decides.
DROP TRIGGER IF EXISTS prospects_stamp_reinsert;
CREATE TRIGGER prospects_stamp_reinsert AFTER INSERT ON prospects
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
 AND NEW.updated_at <= (SELECT max(changed_at) FROM sync_outbox WHERE entity = 'prospects' AND row_id = NEW.id AND op = 'delete')
BEGIN
  UPDATE prospects SET updated_at = (
    SELECT CASE WHEN substr(d, 21, 6) < '999999'
                THEN substr(d, 1, 20) || printf('%06d', CAST(substr(d, 21, 6) AS INTEGER) + 1) || 'Z'
                ELSE strftime('%Y-%m-%dT%H:%M:%S', substr(d, 1, 19), '+1 second') || '.000000Z' END
    FROM (SELECT max(changed_at) AS d FROM sync_outbox WHERE entity = 'prospects' AND row_id = NEW.id AND op = 'delete'))
  WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS emails_stamp_reinsert;
CREATE TRIGGER emails_stamp_reinsert AFTER INSERT ON emails
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
 AND NEW.updated_at <= (SELECT max(changed_at) FROM sync_outbox WHERE entity = 'emails' AND row_id = NEW.id AND op = 'delete')
BEGIN
  UPDATE emails SET updated_at = (
    SELECT CASE WHEN substr(d, 21, 6) < '999999'
                THEN substr(d, 1, 20) || printf('%06d', CAST(substr(d, 21, 6) AS INTEGER) + 1) || 'Z'
                ELSE strftime('%Y-%m-%dT%H:%M:%S', substr(d, 1, 19), '+1 second') || '.000000Z' END
    FROM (SELECT max(changed_at) AS d FROM sync_outbox WHERE entity = 'emails' AND row_id = NEW.id AND op = 'delete'))
  WHERE id = NEW.id;
END;
