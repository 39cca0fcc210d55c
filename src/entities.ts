/**
 * The entity registry: one declarative entry per synced table. The engine reads table and
 * column names only from here, never from a request. Adding a table means adding an entry
 * here and a D1 migration (plus outbox triggers when it is pushed), nothing else.
 */

/** How a column's value is carried: Postgres JSON on one side, a D1 value on the other. */
export type ColumnType = 'uuid' | 'text' | 'integer' | 'boolean' | 'timestamp' | 'date';

/** One column of a synced table. */
export interface ColumnSpec {
  type: ColumnType;
  nullable?: boolean;
  /** The allowed values; others are reported by the invalid_states check, not refused by the sync. */
  values?: readonly string[];
}

/** pull: Supabase → D1; push: D1 → Supabase; both: two-way with last-write-wins. */
export type Direction = 'pull' | 'push' | 'both';

/**
 * Who wins when a pushed row changed in Supabase too: the later version (last-write-wins), or
 * D1's always (source-wins: D1 is the source of truth, as for emails).
 */
export type ConflictPolicy = 'last-write-wins' | 'source-wins';

/** A synced table. */
export interface EntityDefinition {
  /** The name used in URLs and as the coordinator's name. */
  name: string;
  /** Same table name on both sides. */
  table: string;
  /** Primary key column (text/uuid). */
  key: string;
  /** Column holding the last-modified time, maintained by triggers on both sides. */
  cursorColumn: string;
  columns: Readonly<Record<string, ColumnSpec>>;
  direction: Direction;
  /** Rows per page; at most the server's max-rows (Supabase default 1000). */
  pageSize: number;
  conflictPolicy: ConflictPolicy;
  /** Whether deletes are pulled from Supabase's sync_tombstones table. */
  tombstones: boolean;
}

const timestamps = {
  created_at: { type: 'timestamp' },
  updated_at: { type: 'timestamp' },
} as const satisfies Record<string, ColumnSpec>;

const prospects: EntityDefinition = {
  name: 'prospects',
  table: 'prospects',
  key: 'id',
  cursorColumn: 'updated_at',
  direction: 'both',
  pageSize: 1000,
  conflictPolicy: 'last-write-wins',
  tombstones: true,
  columns: {
    id: { type: 'uuid' },
    name: { type: 'text' },
    city: { type: 'text', nullable: true },
    country: { type: 'text', nullable: true },
    contact_name: { type: 'text', nullable: true },
    contact_email: { type: 'text', nullable: true },
    contact_title: { type: 'text', nullable: true },
    phone: { type: 'text', nullable: true },
    website: { type: 'text', nullable: true },
    linkedin_url: { type: 'text', nullable: true },
    // dev/seed/supabase.sql's stages; Supabase has no check constraint on this column.
    stage: { type: 'text', values: ['new', 'contacted', 'engaged', 'meeting', 'won', 'lost'] },
    tier: { type: 'text', nullable: true },
    score: { type: 'integer' },
    lead_source: { type: 'text', nullable: true },
    email_bounced: { type: 'boolean' },
    archived: { type: 'boolean' },
    ...timestamps,
  },
};

const campaigns: EntityDefinition = {
  name: 'campaigns',
  table: 'campaigns',
  key: 'id',
  cursorColumn: 'updated_at',
  direction: 'pull',
  pageSize: 1000,
  conflictPolicy: 'last-write-wins',
  tombstones: true,
  columns: {
    id: { type: 'uuid' },
    name: { type: 'text' },
    description: { type: 'text', nullable: true },
    status: { type: 'text', values: ['draft', 'active', 'paused', 'completed', 'archived'] },
    daily_limit: { type: 'integer' },
    sequence_steps: { type: 'integer' },
    starts_on: { type: 'date', nullable: true },
    ends_on: { type: 'date', nullable: true },
    ...timestamps,
  },
};

const mailboxes: EntityDefinition = {
  name: 'mailboxes',
  table: 'mailboxes',
  key: 'id',
  cursorColumn: 'updated_at',
  direction: 'pull',
  pageSize: 1000,
  conflictPolicy: 'last-write-wins',
  tombstones: true,
  columns: {
    id: { type: 'uuid' },
    email: { type: 'text' },
    display_name: { type: 'text', nullable: true },
    provider: { type: 'text' },
    daily_limit: { type: 'integer' },
    sent_today: { type: 'integer' },
    warmup_enabled: { type: 'boolean' },
    status: { type: 'text', values: ['active', 'paused', 'error'] },
    health_score: { type: 'integer', nullable: true },
    last_used_at: { type: 'timestamp', nullable: true },
    ...timestamps,
  },
};

const emails: EntityDefinition = {
  name: 'emails',
  table: 'emails',
  key: 'id',
  cursorColumn: 'updated_at',
  direction: 'push',
  // A push page travels in the body of one request (sync_apply_push), so no URL limits it.
  pageSize: 1000,
  conflictPolicy: 'source-wins',
  tombstones: false,
  columns: {
    id: { type: 'uuid' },
    prospect_id: { type: 'uuid', nullable: true },
    campaign_id: { type: 'uuid', nullable: true },
    subject: { type: 'text', nullable: true },
    body: { type: 'text', nullable: true },
    to_email: { type: 'text' },
    from_email: { type: 'text' },
    message_id: { type: 'text', nullable: true },
    direction: { type: 'text', values: ['inbound', 'outbound'] },
    status: { type: 'text', values: ['queued', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'failed'] },
    sent_at: { type: 'timestamp', nullable: true },
    opened_at: { type: 'timestamp', nullable: true },
    clicked_at: { type: 'timestamp', nullable: true },
    replied_at: { type: 'timestamp', nullable: true },
    bounced_at: { type: 'timestamp', nullable: true },
    ...timestamps,
  },
};

/** Every synced entity, by name. */
export const ENTITIES: Readonly<Record<string, EntityDefinition>> = Object.freeze({
  prospects,
  campaigns,
  mailboxes,
  emails,
});

/** The registered entity names, in a stable order. */
export const ENTITY_NAMES: readonly string[] = Object.freeze(Object.keys(ENTITIES));

/** Looks up an entity by name; undefined for anything not registered. */
export function findEntity(name: string): EntityDefinition | undefined {
  return Object.hasOwn(ENTITIES, name) ? ENTITIES[name] : undefined;
}

/** Whether the entity reads from Supabase into D1 (the one definition of "pulled"; statuses carry the direction too). */
export function pulls(entity: Pick<EntityDefinition, 'direction'>): boolean {
  return entity.direction === 'pull' || entity.direction === 'both';
}

/** Whether the entity sends D1's edge writes to Supabase. */
export function pushes(entity: Pick<EntityDefinition, 'direction'>): boolean {
  return entity.direction === 'push' || entity.direction === 'both';
}

/** A D1 or Supabase row: column → JSON-compatible value. */
export type Row = Record<string, unknown>;

/** The column list for a PostgREST `select=` and for D1 statements, in registry order. */
export function columnNames(entity: EntityDefinition): string[] {
  return Object.keys(entity.columns);
}
