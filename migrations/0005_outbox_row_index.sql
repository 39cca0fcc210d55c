-- The pull of a two-way table looks up pending edge deletes of the rows it applies (a row
-- deleted at the edge, delete not pushed yet, must not come back): by entity and row.
CREATE INDEX IF NOT EXISTS sync_outbox_entity_row ON sync_outbox (entity, row_id);
