/**
 * Row values the schedule writes, and the canonical form both sides' rows are compared in:
 * only the registry's columns, timestamps as 'YYYY-MM-DDTHH:MM:SS.ffffffZ', booleans 0/1.
 */
import { canonicalTimestamp } from '../../../src/timestamps.ts';
import { entity as entityDef } from '../../shared/fixtures.ts';

/** A row reduced to the registry's columns, in canonical form. */
export type CanonRow = Record<string, string | number | null>;

/** A column → value map to write (JS values; booleans become 0/1 in D1, true/false in Postgres). */
export type Values = Record<string, string | number | boolean | null>;

const STAGES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
const CITIES = ['Berlin', 'Lyon', 'Porto', null] as const;
const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'completed', 'archived'] as const;
/** The statuses Supabase's CHECK constraint allows on emails. */
export const EMAIL_STATUSES = ['queued', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'failed'] as const;
/** A status Supabase refuses: such an email is quarantined by the push. */
export const INVALID_EMAIL_STATUS = 'teleported';

/** The columns of a freshly inserted row (the rest take their defaults). */
export function insertValues(table: string, v: number, options: { invalid?: boolean } = {}): Values {
  switch (table) {
    case 'prospects':
      return {
        name: `p${v}`,
        city: CITIES[v % CITIES.length] ?? null,
        stage: STAGES[v % STAGES.length] ?? 'new',
        score: v % 100,
        email_bounced: (v >> 3) % 2 === 1,
      };
    case 'campaigns':
      return {
        name: `c${v}`,
        description: v % 3 === 0 ? null : `d${v}`,
        status: CAMPAIGN_STATUSES[v % CAMPAIGN_STATUSES.length] ?? 'draft',
        daily_limit: 10 + (v % 90),
      };
    case 'emails':
      return {
        to_email: `e${v}@example.com`,
        from_email: 'sales@example.com',
        direction: v % 2 === 0 ? 'outbound' : 'inbound',
        status: options.invalid ? INVALID_EMAIL_STATUS : (EMAIL_STATUSES[v % EMAIL_STATUSES.length] ?? 'sent'),
        subject: `s${v}`,
        sent_at: '2026-11-29T06:00:00.000000Z',
      };
    default:
      throw new Error(`no insert values for ${table}`);
  }
}

/** The columns an edit changes (updated_at is left alone: the side's trigger stamps it). */
export function updateValues(table: string, v: number): Values {
  switch (table) {
    case 'prospects':
      return { name: `p${v}u`, stage: STAGES[v % STAGES.length] ?? 'new', score: v % 100, email_bounced: v % 2 === 1 };
    case 'campaigns':
      return { name: `c${v}u`, status: CAMPAIGN_STATUSES[v % CAMPAIGN_STATUSES.length] ?? 'draft', daily_limit: 10 + (v % 90) };
    case 'emails':
      // Always a valid status: an edit can repair an email Supabase refused.
      return {
        status: EMAIL_STATUSES[v % EMAIL_STATUSES.length] ?? 'opened',
        subject: `s${v}u`,
        opened_at: `2026-11-29T07:00:00.${String(v % 1_000_000).padStart(6, '0')}Z`,
      };
    default:
      throw new Error(`no update values for ${table}`);
  }
}

/** A value as D1 binds it. */
export function d1Value(v: Values[string]): string | number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** A value as a Postgres SQL literal (for multi-statement scripts, which take no parameters). */
export function pgLiteral(v: Values[string]): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

/** A value as a stand-in SQL parameter. */
export function pgParam(v: Values[string]): string | null {
  if (v === null) return null;
  return String(v);
}

/** The canonical form of a timestamp, or the raw text prefixed with '!' when it does not parse. */
export function canonTs(value: unknown): string {
  try {
    return canonicalTimestamp(String(value));
  } catch {
    return `!${String(value)}`;
  }
}

/** A column value as text: strings as they are, numbers in JS form, anything else as JSON. */
function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A row (from PostgREST/Postgres JSON or from D1) reduced to the registry's columns, canonical. */
export function canonicalRow(entity: string, raw: Record<string, unknown>): CanonRow {
  const def = entityDef(entity);
  const out: CanonRow = {};
  for (const [name, spec] of Object.entries(def.columns)) {
    const v = raw[name];
    if (v === null || v === undefined) {
      out[name] = null;
      continue;
    }
    switch (spec.type) {
      case 'timestamp':
        out[name] = canonTs(v);
        break;
      case 'boolean':
        out[name] = v === true || v === 1 || v === '1' || v === 't' || v === 'true' ? 1 : 0;
        break;
      case 'integer':
        out[name] = Number(v);
        break;
      case 'date':
        out[name] = scalarText(v).slice(0, 10);
        break;
      default:
        out[name] = scalarText(v);
    }
  }
  return out;
}

/** Columns whose canonical values differ. */
export function diffColumns(a: CanonRow, b: CanonRow): string[] {
  const cols = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...cols].filter((c) => a[c] !== b[c]);
}

/** A row for a failure message: the differing columns first, then the version. */
export function showRow(row: CanonRow | undefined, focus: readonly string[] = []): string {
  if (!row) return '(absent)';
  const keys = [...new Set([...focus, 'updated_at', 'name', 'status'])].filter((k) => k in row);
  return `{ ${keys.map((k) => `${k}: ${JSON.stringify(row[k])}`).join(', ')} }`;
}
