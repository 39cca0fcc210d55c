/**
 * The seed's naive algorithm (/work/shared/original-spec.md), kept as a baseline: written
 * faithfully, bugs included, so the benchmarks compare the engine with what it replaced.
 *
 * Differences from the spec, none of which change what the algorithm reads or writes:
 * - `lastSync` is passed in and returned instead of living in KV (`last_supabase_sync`);
 * - only the prospects part of `syncFromSupabase` is here (the campaigns and mailboxes parts
 *   are the same loop without the limit);
 * - rows are typed as records instead of `any`;
 * - errors are counted, not logged (console output would swamp the benchmark).
 */
import { SupabaseClient } from '@supabase/supabase-js';

type Row = Record<string, unknown>;

/** A supabase-js client the way the seed made one (plus no session handling, as in a Worker). */
export function naiveClient(url: string, serviceKey: string): SupabaseClient {
  // The class rather than createClient: createClient infers its schema as `any`.
  return new SupabaseClient(url, serviceKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } });
}

export interface NaivePullResult {
  synced: number;
  errors: number;
  /** The new `last_supabase_sync`: the time the run ended, whatever it read. */
  lastSync: string;
}

/** `syncFromSupabase`, prospects part: 500 rows at or after lastSync, one D1 upsert per row, then lastSync = now. */
export async function naiveSyncProspects(db: D1Database, supabase: SupabaseClient, lastSync = '1970-01-01'): Promise<NaivePullResult> {
  let synced = 0;
  let errors = 0;
  try {
    const { data: prospects } = await supabase
      .from('prospects')
      .select('*')
      .gte('updated_at', lastSync)
      .order('updated_at', { ascending: true })
      .limit(500);

    for (const prospect of (prospects ?? []) as Row[]) {
      try {
        await upsertProspectToD1(db, prospect);
        synced++;
      } catch {
        errors++;
      }
    }
  } catch {
    // 'Prospect sync failed'
  }
  // Update last sync timestamp
  return { synced, errors, lastSync: new Date().toISOString() };
}

/** `upsertProspectToD1`: one prepared INSERT … ON CONFLICT DO UPDATE per row. */
export async function upsertProspectToD1(db: D1Database, prospect: Row): Promise<void> {
  await db
    .prepare(
      `
    INSERT INTO prospects (
      id, name, city, country, contact_name, contact_email, contact_title,
      phone, website, linkedin_url, stage, tier, score, lead_source,
      email_bounced, archived, created_at, updated_at
    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET
      name = excluded.name,
      city = excluded.city,
      country = excluded.country,
      contact_name = excluded.contact_name,
      contact_email = excluded.contact_email,
      contact_title = excluded.contact_title,
      phone = excluded.phone,
      website = excluded.website,
      linkedin_url = excluded.linkedin_url,
      stage = excluded.stage,
      tier = excluded.tier,
      score = excluded.score,
      lead_source = excluded.lead_source,
      email_bounced = excluded.email_bounced,
      archived = excluded.archived,
      updated_at = excluded.updated_at
  `,
    )
    .bind(
      prospect.id,
      prospect.name,
      prospect.city,
      prospect.country,
      prospect.contact_name,
      prospect.contact_email,
      prospect.contact_title,
      prospect.phone,
      prospect.website,
      prospect.linkedin_url,
      prospect.stage,
      prospect.tier,
      prospect.score,
      prospect.lead_source,
      prospect.email_bounced ? 1 : 0,
      prospect.archived ? 1 : 0,
      prospect.created_at,
      prospect.updated_at,
    )
    .run();
}

/** `fullResyncFromSupabase` (spec §6): empty the replica, then offset pages of 1,000, one D1 upsert per row. */
export async function naiveFullResync(db: D1Database, supabase: SupabaseClient): Promise<{ synced: number; pages: number }> {
  // Clear D1 prospects (they're a cache)
  await db.prepare('DELETE FROM prospects').run();
  let offset = 0;
  const batchSize = 1000;
  let synced = 0;
  let pages = 0;
  while (true) {
    const { data: prospects } = await supabase
      .from('prospects')
      .select('*')
      .range(offset, offset + batchSize - 1);
    pages++;
    if (!prospects?.length) break;
    for (const prospect of prospects as Row[]) {
      await upsertProspectToD1(db, prospect);
      synced++;
    }
    offset += batchSize;
  }
  return { synced, pages };
}

export interface NaivePushResult {
  synced: number;
  errors: number;
  pending: number;
}

/**
 * `syncToSupabase`: the 100 oldest emails with synced_to_supabase = 0, one supabase-js upsert
 * request each, then one D1 UPDATE … SET synced_to_supabase = 1 each. Needs the column the
 * seed's migration added (`ALTER TABLE emails ADD COLUMN synced_to_supabase INTEGER DEFAULT 0`).
 */
export async function naiveSyncToSupabase(db: D1Database, supabase: SupabaseClient): Promise<NaivePushResult> {
  // Get unsynced emails
  const { results: emails } = await db
    .prepare(
      `
    SELECT * FROM emails
    WHERE synced_to_supabase = 0
    ORDER BY created_at ASC
    LIMIT 100
  `,
    )
    .all<Row>();

  let synced = 0;
  let errors = 0;

  for (const email of emails) {
    try {
      // Upsert to Supabase
      const { error } = await supabase.from('emails').upsert({
        id: email.id,
        prospect_id: email.prospect_id,
        campaign_id: email.campaign_id,
        subject: email.subject,
        body: email.body,
        to_email: email.to_email,
        from_email: email.from_email,
        message_id: email.message_id,
        direction: email.direction,
        status: email.status,
        sent_at: email.sent_at,
        opened_at: email.opened_at,
        clicked_at: email.clicked_at,
        replied_at: email.replied_at,
        bounced_at: email.bounced_at,
        created_at: email.created_at,
      });

      if (error) throw error;

      // Mark as synced in D1
      await db
        .prepare(
          `
        UPDATE emails SET synced_to_supabase = 1 WHERE id = ?
      `,
        )
        .bind(email.id)
        .run();

      synced++;
    } catch {
      errors++;
    }
  }

  return { synced, errors, pending: emails.length - synced };
}
