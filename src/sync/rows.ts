/**
 * Row canonicalisation and validation, derived from the entity registry with zod.
 * pull: a Postgres JSON row (as PostgREST returns it) → the D1 row (canonical timestamps,
 * booleans as 0/1). push: a D1 row → the JSON Supabase accepts. A row that does not fit
 * is returned as a rejection with a readable reason, to be quarantined.
 */
import { z } from 'zod';
import type { ColumnSpec, EntityDefinition } from '../entities.ts';
import { canonicalTimestamp, InvalidTimestampError } from './timestamps.ts';

/** A D1 or Supabase row: column → JSON-compatible value. */
export type Row = Record<string, unknown>;

/** The outcome of checking one row. */
export type RowCheck = { ok: true; row: Row } | { ok: false; id: string; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Keys are canonical on both sides: lower-case uuids (D1 compares text exactly). */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` is a canonical key of `entity`: one Supabase can hold and D1 compares exactly. */
export function isCanonicalKey(entity: EntityDefinition, id: string): boolean {
  return entity.columns[entity.key]?.type !== 'uuid' || CANONICAL_UUID.test(id);
}
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const timestamp = z.string().transform((value, ctx) => {
  try {
    return canonicalTimestamp(value);
  } catch (error) {
    if (!(error instanceof InvalidTimestampError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

function pullColumn(spec: ColumnSpec): z.ZodType {
  const base = {
    uuid: z.string().regex(UUID, 'not a uuid').transform((id) => id.toLowerCase()),
    text: z.string(),
    integer: z.number().int(),
    boolean: z.boolean().transform((b) => (b ? 1 : 0)),
    timestamp,
    date: z.string().regex(DATE, 'not a date (YYYY-MM-DD)'),
  }[spec.type];
  return spec.nullable ? base.nullable() : base;
}

function pushColumn(spec: ColumnSpec): z.ZodType {
  const base = {
    uuid: z.string().regex(UUID, 'not a uuid').regex(CANONICAL_UUID, 'not a canonical uuid (lower case)'),
    text: z.string(),
    integer: z.number().int(),
    boolean: z.union([z.literal(0), z.literal(1), z.boolean()]).transform((b) => b === 1 || b === true),
    timestamp,
    date: z.string().regex(DATE, 'not a date (YYYY-MM-DD)'),
  }[spec.type];
  return spec.nullable ? base.nullable() : base;
}

const schemaCache = new WeakMap<EntityDefinition, { pull: z.ZodType<Row>; push: z.ZodType<Row> }>();

function schemasFor(entity: EntityDefinition): { pull: z.ZodType<Row>; push: z.ZodType<Row> } {
  let schemas = schemaCache.get(entity);
  if (!schemas) {
    const columns = Object.entries(entity.columns);
    schemas = {
      pull: z.strictObject(Object.fromEntries(columns.map(([name, spec]) => [name, pullColumn(spec)]))),
      push: z.strictObject(Object.fromEntries(columns.map(([name, spec]) => [name, pushColumn(spec)]))),
    };
    schemaCache.set(entity, schemas);
  }
  return schemas;
}

function check(schema: z.ZodType<Row>, entity: EntityDefinition, raw: unknown): RowCheck {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, row: parsed.data };
  const key = typeof raw === 'object' && raw !== null ? (raw as Row)[entity.key] : undefined;
  const reason = parsed.error.issues
    .map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, id: typeof key === 'string' || typeof key === 'number' ? String(key) : '(no id)', reason };
}

/** Checks and converts a row read from Supabase into the D1 row to apply. */
export function toReplicaRow(entity: EntityDefinition, raw: unknown): RowCheck {
  return check(schemasFor(entity).pull, entity, raw);
}

/** Checks and converts a row read from D1 into the row to send to Supabase. */
export function toSourceRow(entity: EntityDefinition, raw: unknown): RowCheck {
  return check(schemasFor(entity).push, entity, raw);
}

/** The column list for a PostgREST `select=` and for D1 statements, in registry order. */
export function columnNames(entity: EntityDefinition): string[] {
  return Object.keys(entity.columns);
}
