/** Bench data: Supabase rows made with SQL on the stand-in, D1 rows made directly, and counts. */
import { env } from 'cloudflare:workers';
import type { TestDatabase } from '../../test/worker/helpers.ts';

export { insertEmails, wipeD1 } from '../../test/worker/helpers.ts';

/**
 * Inserts `n` prospects in one statement. `spread` gives each row its own updated_at, one
 * minute apart, ending `endsAgo` before now (a table filled over time); without it every row
 * shares one now() (a bulk insert in one transaction).
 */
export async function seedProspects(
  db: TestDatabase,
  n: number,
  options: { spread: boolean; endsAgo?: string } = { spread: true },
): Promise<void> {
  const updatedAt = options.spread ? `now() - interval '${options.endsAgo ?? '0 seconds'}' - (${n} - g) * interval '1 minute'` : 'now()';
  await db.sql(`
    insert into prospects (name, city, country, contact_name, contact_email, contact_title, phone, website,
                           linkedin_url, stage, tier, score, lead_source, email_bounced, archived, created_at, updated_at)
    select 'Hotel ' || g, 'City ' || (g % 97), 'PT', 'Contact ' || g, 'contact' || g || '@hotel' || g || '.example',
           'General Manager', '+351 21 000 ' || lpad((g % 10000)::text, 4, '0'), 'https://hotel' || g || '.example',
           'https://www.linkedin.com/company/hotel-' || g, (array['new', 'contacted', 'qualified'])[1 + g % 3],
           (array['A', 'B', 'C'])[1 + g % 3], g % 100, 'import', g % 50 = 0, false, now() - interval '30 days', ${updatedAt}
    from generate_series(1, ${n}) g`);
}

/** Ids of a Supabase table. */
export async function supabaseIds(db: TestDatabase, table: 'prospects' | 'emails'): Promise<string[]> {
  return (await db.sql<{ id: string }>(`select id::text as id from ${table} order by id`)).map((r) => r.id);
}

/** How many of `ids` are in the D1 table. */
export async function presentInD1(table: 'prospects' | 'emails', ids: readonly string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 5000) {
    const r = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE id IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify(ids.slice(i, i + 5000)))
      .first<{ n: number }>();
    n += r?.n ?? 0;
  }
  return n;
}

export async function d1Count(table: 'prospects' | 'emails', where = '1 = 1'): Promise<number> {
  return (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).first<{ n: number }>())?.n ?? 0;
}

/**
 * The seed had no outbox triggers. For the naive runs they are switched off through the flag
 * the engine uses for its own writes (each trigger then costs one WHEN lookup and no write).
 */
export async function outboxTriggers(on: boolean): Promise<void> {
  await env.DB.prepare('UPDATE sync_apply_guard SET applying = ?1 WHERE id = 1')
    .bind(on ? 0 : 1)
    .run();
}

/** The Worker recording opens on D1 rows: one UPDATE (the triggers, when on, record each row). */
export async function markOpened(ids: readonly string[], at: string): Promise<void> {
  await env.DB.prepare(`UPDATE emails SET opened_at = ?2, status = 'opened' WHERE id IN (SELECT value FROM json_each(?1))`)
    .bind(JSON.stringify(ids), at)
    .run();
}
