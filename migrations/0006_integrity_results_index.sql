-- The integrity history is read and trimmed per entity, newest first (src/stores/integrity.ts).
CREATE INDEX IF NOT EXISTS integrity_results_entity_id ON integrity_results (entity, id);
