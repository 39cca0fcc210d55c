/**
 * `npm start`: the whole engine on this machine, no Cloudflare account, no network.
 * 1. the local Supabase stand-in on SUPABASE_PORT (54321), file-backed under .local/, seeded once;
 * 2. D1 migrations applied locally (and demo emails seeded once);
 * 3. `wrangler dev` on WORKER_PORT (8787) with short sync intervals, then one cron tick so every
 *    coordinator's alarm is armed at once;
 * 4. the hourly consistency checks every INTEGRITY_INTERVAL_SECONDS (60; 0 turns them off), since
 *    `wrangler dev` fires no cron by itself: the same `0 * * * *` tick, through --test-scheduled.
 * Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalSupabase } from './supabase-local/server.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = join(root, '.local');
const wranglerState = join(stateDir, 'wrangler');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');

const supabasePort = Number(process.env.SUPABASE_PORT ?? 54321);
const workerPort = Number(process.env.WORKER_PORT ?? 8787);
const serviceRoleKey = process.env.SUPABASE_SERVICE_ROLE_KEY ?? 'local-service-role-key';
const adminToken = process.env.ADMIN_TOKEN ?? 'local-admin-token';

/**
 * The environment of every wrangler command: the stack runs offline, so nothing may reach out.
 * CLOUDFLARE_CF_FETCH_ENABLED=false: Miniflare uses its placeholder `Request.cf` instead of
 * downloading workers.cloudflare.com/cf.json, which printed an ENOTFOUND stack trace twice on
 * every start (wrangler's documented system environment variable, workers-sdk#12469).
 * WRANGLER_SEND_METRICS=false: no usage metrics are sent (and none fail to send).
 */
const wranglerEnv: NodeJS.ProcessEnv = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };

/**
 * Runs a one-off wrangler command (D1 migrations, the seed) and prints `done` when it succeeds. Its
 * own output (a banner and a table per migration, 200 lines on a first start) is printed only when
 * it fails, whole, stdout and stderr as they came.
 */
function run(args: string[], done: string): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(wrangler, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...wranglerEnv, CI: 'true' } });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('exit', (code) => {
      if (code === 0) {
        console.log(done);
        ok();
        return;
      }
      process.stderr.write(Buffer.concat(output));
      fail(new Error(`wrangler ${args.slice(0, 3).join(' ')} exited ${code}`));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

async function main(): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  const firstStart = !existsSync(join(stateDir, 'd1-seeded'));

  const supabase = await startLocalSupabase({
    port: supabasePort,
    host: '127.0.0.1',
    dataDir: join(stateDir, 'supabase'),
    migrationsDir: join(root, 'supabase', 'migrations'),
    seedFile: join(root, 'dev', 'seed', 'supabase.sql'),
    serviceRoleKey,
    quiet: true,
  });

  await run(['d1', 'migrations', 'apply', 'crm', '--local', '--persist-to', wranglerState], 'D1: migrations applied.');
  if (firstStart) {
    await run(
      ['d1', 'execute', 'crm', '--local', '--persist-to', wranglerState, '--file', join(root, 'dev', 'seed', 'd1.sql')],
      'D1: demo data seeded (300 emails).',
    );
    writeFileSync(join(stateDir, 'd1-seeded'), new Date().toISOString());
  }

  // Secrets go to wrangler through a file, not the command line.
  const envFile = join(stateDir, 'dev.env');
  writeFileSync(
    envFile,
    [
      `SUPABASE_URL=${supabase.url}`,
      `SUPABASE_SERVICE_ROLE_KEY=${serviceRoleKey}`,
      `ADMIN_TOKEN=${adminToken}`,
      `PULL_INTERVAL_SECONDS=${process.env.PULL_INTERVAL_SECONDS ?? 10}`,
      `PUSH_INTERVAL_SECONDS=${process.env.PUSH_INTERVAL_SECONDS ?? 5}`,
      `SAFETY_LAG_SECONDS=${process.env.SAFETY_LAG_SECONDS ?? 2}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  const worker = spawn(
    wrangler,
    [
      'dev',
      '--port',
      String(workerPort),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      wranglerState,
      '--env-file',
      envFile,
      '--test-scheduled',
      '--show-interactive-dev-session=false',
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: wranglerEnv, detached: true },
  );

  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (worker.pid !== undefined && worker.exitCode === null) {
      try {
        process.kill(-worker.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await supabase.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  worker.on('exit', (code) => void stop(code ?? 1));

  const base = `http://127.0.0.1:${workerPort}`;
  await waitForHealth(`${base}/health`, worker, 90_000);
  // One cron tick arms every coordinator's alarm now instead of at the next */10.
  await fetch(`${base}/__scheduled?cron=${encodeURIComponent('*/10 * * * *')}`);
  // The hourly checks on a short local interval (wrangler dev fires no crons by itself).
  const integritySeconds = Number(process.env.INTEGRITY_INTERVAL_SECONDS ?? 60);
  if (integritySeconds > 0) {
    const tick = (): void => {
      fetch(`${base}/__scheduled?cron=${encodeURIComponent('0 * * * *')}`).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
    };
    setInterval(tick, integritySeconds * 1000).unref();
  }

  console.log(
    [
      '',
      'Local sync engine is running.',
      `  Dashboard:       ${base}/dashboard`,
      `  Admin token:     ${adminToken}${process.env.ADMIN_TOKEN ? '' : '   (default; set ADMIN_TOKEN to choose one)'}`,
      `  Status:          curl -H "Authorization: Bearer ${adminToken}" ${base}/api/sync/status`,
      `  Consistency:     checks every ${integritySeconds > 0 ? `${integritySeconds} s` : '(off)'}; run them now with`,
      `                   curl -X POST -H "Authorization: Bearer ${adminToken}" -d '{"fix":true}' ${base}/api/integrity/run`,
      `  Local Supabase:  ${supabase.url}   service-role key: ${serviceRoleKey}`,
      `  Supabase SQL:    curl -X POST -H "apikey: ${serviceRoleKey}" -H 'content-type: application/json' \\`,
      `                     -d '{"sql":"select count(*) from prospects"}' ${supabase.url}/_dev/sql`,
      '  Ctrl-C stops everything; state is kept in .local/ (delete it to start fresh).',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
