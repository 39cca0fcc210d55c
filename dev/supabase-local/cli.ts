// `npm run supabase:local -- [--port P] [--host H] [--migrations DIR] [--seed FILE]
//   [--data-dir DIR] [--database-url URL] [--max-rows N] [--quiet]`
// Env: SUPABASE_PORT (default 54321), SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseMaxUrlBytes, parseTxEnd, startLocalSupabase } from './server.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    migrations: { type: 'string' },
    seed: { type: 'string' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    'max-rows': { type: 'string' },
    quiet: { type: 'boolean' },
    'db-tx-end': { type: 'string' },
    'max-url-bytes': { type: 'string' },
    'db-aggregates-enabled': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (values.help === true) {
  console.log(`Local Supabase stand-in (PostgREST subset over PGlite or Postgres)

  --port P            port (env SUPABASE_PORT, default 54321; 0 = any free port)
  --host H            interface to bind (default 127.0.0.1)
  --migrations DIR    SQL migrations applied in name order (default supabase/migrations)
  --seed FILE         SQL run once when a database is first created
  --data-dir DIR      keep PGlite databases on disk (default: in memory)
  --database-url URL  use a Postgres server instead of PGlite (env SUPABASE_DB_URL)
  --max-rows N        cap on rows returned by any read (default 1000)
  --db-tx-end MODE    commit (default, as on Supabase: Prefer: tx=rollback is ignored),
                      commit-allow-override, rollback, rollback-allow-override (env PGRST_DB_TX_END)
  --max-url-bytes N   longest URL (path + query, bytes) before the gateway's 414 (env
                      SUPABASE_MAX_URL_BYTES, default 8192; 0 = no limit)
  --db-aggregates-enabled  allow count()/sum()/avg()/min()/max() in select (env
                      PGRST_DB_AGGREGATES_ENABLED=true; off by default, as on Supabase)
  --quiet             no request log`);
  process.exit(0);
}

function intOption(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer`);
    process.exit(2);
  }
  return n;
}

const port = intOption(values.port ?? process.env['SUPABASE_PORT'], 'port') ?? 54321;
const maxRows = intOption(values['max-rows'], 'max-rows');
const migrationsDir = resolve(values.migrations ?? resolve(repoRoot, 'supabase/migrations'));
const databaseUrl = values['database-url'] ?? process.env['SUPABASE_DB_URL'];
const seedFile = values.seed !== undefined ? resolve(values.seed) : undefined;
if (seedFile !== undefined && !existsSync(seedFile)) {
  console.error(`seed file not found: ${seedFile}`);
  process.exit(2);
}

let txEnd;
let maxUrlBytes;
try {
  txEnd = parseTxEnd(values['db-tx-end'] ?? process.env['PGRST_DB_TX_END']);
  maxUrlBytes = parseMaxUrlBytes(values['max-url-bytes'] ?? process.env['SUPABASE_MAX_URL_BYTES']);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}

const server = await startLocalSupabase({
  txEnd,
  aggregatesEnabled: values['db-aggregates-enabled'] === true || process.env['PGRST_DB_AGGREGATES_ENABLED'] === 'true',
  maxUrlBytes,
  port,
  migrationsDir,
  ...(values.host !== undefined ? { host: values.host } : {}),
  ...(seedFile !== undefined ? { seedFile } : {}),
  ...(values['data-dir'] !== undefined ? { dataDir: resolve(values['data-dir']) } : {}),
  ...(databaseUrl !== undefined && databaseUrl !== '' ? { databaseUrl } : {}),
  ...(maxRows !== undefined ? { maxRows } : {}),
  quiet: values.quiet === true,
});

const backend = databaseUrl
  ? 'Postgres server (SUPABASE_DB_URL / --database-url)'
  : values['data-dir']
    ? `PGlite on disk at ${resolve(values['data-dir'])}`
    : 'PGlite in memory';
console.log(`Local Supabase stand-in listening
  API URL:          ${server.url}
  REST:             ${server.url}/rest/v1
  named databases:  ${server.url}/db/<name>  (created on first use)
  service_role key: ${server.serviceRoleKey}
  database:         ${backend}
  migrations:       ${migrationsDir}`);

// Warm up the default database so the first request does not pay for initdb + migrations.
void fetch(`${server.url}/_dev/stats`, { headers: { apikey: server.serviceRoleKey } })
  .then(async (r) => {
    if (!r.ok) console.error(`[supabase-local] default database failed to start: ${await r.text()}`);
  })
  .catch((e: unknown) => {
    console.error('[supabase-local] default database failed to start:', e);
  });

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`\n[supabase-local] ${signal}: closing`);
  await server.close();
  process.exit(0);
}
process.on('SIGINT', () => {
  void shutdown('SIGINT');
});
process.on('SIGTERM', () => {
  void shutdown('SIGTERM');
});
