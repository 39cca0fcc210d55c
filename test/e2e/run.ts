/**
 * `npm run test:e2e`: the operator dashboard in headless Chromium against a running stack.
 *
 * Uses the stack at E2E_BASE_URL (default http://127.0.0.1:8787) when it answers /health;
 * otherwise starts one with `npm start` (ADMIN_TOKEN=e2e-token) in its own process group and
 * stops the whole group at the end. The token comes from E2E_ADMIN_TOKEN, else ADMIN_TOKEN,
 * else e2e-token. Screenshots go to test-results/. The last line is "N passed, M failed";
 * the exit code is non-zero when anything failed.
 *
 * The consistency scenario plants drift in the stack's local D1 with `wrangler d1 execute
 * --local --persist-to E2E_WRANGLER_STATE` (default .local/wrangler, where `npm start` keeps it).
 * The freshness scenario plants a row in the stack's local Supabase stand-in, at E2E_SUPABASE_URL
 * (default http://127.0.0.1:$SUPABASE_PORT, 54321) with E2E_SUPABASE_KEY (default npm start's
 * local-service-role-key).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(root, 'test-results');
const baseUrl = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
const STARTED_TOKEN = 'e2e-token';
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 20_000;
const ENTITIES = ['prospects', 'campaigns', 'mailboxes', 'emails'];
const wranglerState = resolve(process.env.E2E_WRANGLER_STATE ?? join(root, '.local', 'wrangler'));
const D1_DATABASE = 'crm';
const supabaseUrl = (process.env.E2E_SUPABASE_URL ?? `http://127.0.0.1:${process.env.SUPABASE_PORT ?? '54321'}`).replace(/\/$/, '');
const supabaseKey = process.env.E2E_SUPABASE_KEY ?? process.env.SUPABASE_SERVICE_ROLE_KEY ?? 'local-service-role-key';

let token = process.env.E2E_ADMIN_TOKEN ?? process.env.ADMIN_TOKEN ?? STARTED_TOKEN;
let stack: ChildProcess | null = null;
let browser: Browser | null = null;
const results: { name: string; ok: boolean; ms: number; error?: string }[] = [];

// ---- helpers -------------------------------------------------------------------------------

async function check(name: string, fn: () => void | Promise<void>): Promise<boolean> {
  const started = Date.now();
  try {
    await fn();
    const ms = Date.now() - started;
    results.push({ name, ok: true, ms });
    console.log(`  ✓ ${name} (${ms} ms)`);
    return true;
  } catch (e) {
    const ms = Date.now() - started;
    const error = e instanceof Error ? e.message.split('\n').slice(0, 6).join('\n    ') : String(e);
    results.push({ name, ok: false, ms, error });
    console.log(`  ✗ ${name} (${ms} ms)\n    ${error}`);
    return false;
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Polls until fn returns a truthy value; throws with the last value seen. */
async function waitUntil<T>(what: string, fn: () => Promise<T>, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as T;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function healthy(): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

// ---- the stack -----------------------------------------------------------------------------

/** Starts `npm start` in a new process group (so one kill stops wrangler and workerd too). */
async function startStack(): Promise<void> {
  const port = new URL(baseUrl).port || '8787';
  const logPath = join(resultsDir, 'e2e-stack.log');
  const log = createWriteStream(logPath);
  console.log(`No stack answers at ${baseUrl}; starting \`npm start\` (log: ${logPath})`);
  stack = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The consistency scenario runs the checks itself: no local interval checks in between.
    env: {
      ...process.env,
      ADMIN_TOKEN: STARTED_TOKEN,
      WORKER_PORT: port,
      CI: 'true',
      WRANGLER_SEND_METRICS: 'false',
      INTEGRITY_INTERVAL_SECONDS: '0',
    },
  });
  stack.stdout?.pipe(log);
  stack.stderr?.pipe(log);
  token = STARTED_TOKEN;
  const child = stack;
  await waitUntil(
    'the stack to answer /health',
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}; see ${logPath}:\n${tail(logPath)}`);
      return healthy();
    },
    240_000,
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${tail(logPath)}`);
  });
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

/** Stops what this script started: the stack's whole process group, then the browser. */
async function cleanup(): Promise<void> {
  await browser?.close().catch(() => undefined);
  browser = null;
  const child = stack;
  stack = null;
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 10_000))]);
  if (timedOut) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs one SQL statement on the stack's local D1, as an edge writer (or an operator) would. */
function d1Execute(sql: string): Promise<string> {
  const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
  const args = ['d1', 'execute', D1_DATABASE, '--local', '--persist-to', wranglerState, '--command', sql];
  return new Promise((ok, fail) => {
    const child = spawn(wrangler, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok(output) : fail(new Error(`wrangler d1 execute exited ${code}: ${output.slice(-600)}`))));
  });
}

/** A timestamp in D1's canonical form (microseconds, fixed width). */
function canonicalNow(): string {
  return new Date().toISOString().replace('Z', '000Z');
}

/** Runs one SQL statement on the stack's local Supabase stand-in, as an app writing to Supabase would; the rows it returns. */
async function supabaseSql<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const res = await fetch(`${supabaseUrl}/_dev/sql`, {
    method: 'POST',
    headers: { apikey: supabaseKey, authorization: `Bearer ${supabaseKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql, params }),
  });
  if (!res.ok) throw new Error(`the stand-in at ${supabaseUrl} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { rows: T[] }).rows;
}

// ---- the page ------------------------------------------------------------------------------

function card(page: Page, entity: string): Locator {
  return page.locator(`article[data-entity="${entity}"]`);
}

function integrityCard(page: Page, entity: string): Locator {
  return page.locator(`article[data-integrity-entity="${entity}"]`);
}

/** The value of one box ("Found", "Repaired", "D1", "Difference") of a consistency card. */
async function integrityStat(c: Locator, part: 'counts' | 'drift', label: string): Promise<string> {
  const box = c.locator(`dl[data-part="${part}"] > div`).filter({ has: c.page().locator('dt', { hasText: new RegExp(`^${label}$`) }) });
  return ((await box.locator('dd').textContent()) ?? '').trim();
}

/**
 * Clicks a consistency button, waits for its result line ("Run checks: …") and then for the
 * card to show a new run (a run queued behind a sync run lands a little later).
 */
async function runAndWaitForCard(
  page: Page,
  button: Locator,
  label: string,
  c: Locator,
  whileInFlight?: () => Promise<void>,
): Promise<string> {
  const before = (await c.getAttribute('data-run-id')) ?? '';
  await button.click();
  await whileInFlight?.();
  let failure = '';
  const text = await waitUntil(
    `the result of "${label}"`,
    async () => {
      const t = ((await page.locator('#integrity-result').textContent()) ?? '').trim();
      if (t.startsWith(`${label} failed`)) failure = t;
      return t.startsWith(`${label}: `) || failure ? t : '';
    },
    60_000,
  );
  if (failure) throw new Error(failure);
  await waitUntil(`a new run on the card after "${label}"`, async () => ((await c.getAttribute('data-run-id')) ?? '') !== before, 60_000);
  return text;
}

/** What the card's latest run saw: drift found, rows extra in D1, rows in D1. */
async function driftOf(c: Locator): Promise<{ found: number; extra: number; d1: number }> {
  const kinds = (await c.locator('.drift-kinds').textContent()) ?? '';
  return {
    found: Number(await integrityStat(c, 'drift', 'Found')),
    extra: Number(/(\d+) extra in D1/.exec(kinds)?.[1] ?? 0),
    d1: Number(await integrityStat(c, 'counts', 'D1')),
  };
}

async function statusText(page: Page): Promise<string> {
  return (await page.locator('#status').textContent()) ?? '';
}

async function signIn(page: Page, value: string): Promise<void> {
  await page.getByLabel('Admin token').fill(value);
  await page.getByRole('button', { name: 'Open dashboard' }).click();
}

/** Runs one action whose result lands in the status region; retries once when a run held the lease. */
async function actAndWait(page: Page, action: () => Promise<void>, expected: RegExp): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const before = await statusText(page);
    await action();
    const text = await waitUntil(`a result in the status region matching ${expected}`, async () => {
      const t = await statusText(page);
      return t !== before && !t.endsWith('…') && (expected.test(t) || /failed|refused/.test(t)) ? t : '';
    });
    if (expected.test(text)) return text;
    if (attempt >= 3 || !text.includes('refused')) throw new Error(`unexpected result: ${text}`);
    await page.waitForTimeout(2_000); // a run held the lease (409); the dashboard said so; try again
  }
}

async function main(): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  if (await healthy()) console.log(`Using the stack already running at ${baseUrl}`);
  else await startStack();

  const probe = await fetch(`${baseUrl}/api/sync/status`, { headers: { authorization: `Bearer ${token}` } });
  if (probe.status === 401) {
    throw new Error(`the stack at ${baseUrl} rejects the token "${token}"; set E2E_ADMIN_TOKEN (or ADMIN_TOKEN) to its token`);
  }

  // Playwright gives every launch a fresh temporary --user-data-dir and deletes it on close.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const desktop = await browser.newContext({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' });
  const page = await desktop.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageProblems: string[] = [];
  watchProblems(page, pageProblems);
  // Every request the page makes, to check it stays on the Worker's origin.
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  console.log(`Dashboard e2e against ${baseUrl}`);

  await check('the dashboard asks for the admin token', async () => {
    const res = await page.goto(`${baseUrl}/dashboard`);
    assert(res?.status() === 200, `GET /dashboard answered ${res?.status()}`);
    const csp = res.headers()['content-security-policy'] ?? '';
    assert(
      csp.includes("default-src 'none'") && /script-src 'sha256-[A-Za-z0-9+/]+=*';/.test(csp) && csp.includes("connect-src 'self'"),
      `CSP: ${csp}`,
    );
    assert(!/https?:|\*/.test(csp), `the CSP allows another origin: ${csp}`);
    await page.getByLabel('Admin token').waitFor({ state: 'visible' });
    const scripts = await page.evaluate(() => Array.from(document.scripts).map((s) => s.src));
    assert(scripts.length === 1 && scripts[0] === '', `expected one inline script, saw ${JSON.stringify(scripts)}`);
    assert((await page.getByLabel('Admin token').getAttribute('type')) === 'password', 'the token field is not a password field');
  });

  await check('a wrong token is rejected (401) and asked for again', async () => {
    await signIn(page, 'definitely-not-the-token');
    await waitUntil('the 401 message', async () => ((await page.locator('#token-error').textContent()) ?? '').includes('401'));
    assert(await page.getByLabel('Admin token').isVisible(), 'the login form is not shown again');
    assert((await page.evaluate(() => sessionStorage.length)) === 0, 'a rejected token was kept in sessionStorage');
  });

  const signedIn = await check('signs in and shows all four entities', async () => {
    await signIn(page, token);
    for (const entity of ENTITIES) {
      const c = card(page, entity);
      await c.waitFor({ state: 'visible' });
      await waitUntil(`${entity}'s health badge`, async () => /Healthy|Needs attention/.test((await c.textContent()) ?? ''));
      assert((await c.getByRole('heading', { name: entity }).count()) === 1, `${entity} card has no heading`);
    }
    const stored = await page.evaluate(() => sessionStorage.getItem('sync-dashboard:admin-token'));
    assert(stored === token, 'the token is not kept in sessionStorage');
    await waitUntil('the refresh line', async () => ((await page.locator('#refresh-state').textContent()) ?? '').includes('Updated'));
  });

  if (signedIn) {
    await check('"Sync now" runs a sync and the card shows the new run', async () => {
      const c = card(page, 'campaigns');
      const lastRun = c.locator('dd').nth(1);
      const before = (await lastRun.textContent()) ?? '';
      const text = await actAndWait(
        page,
        () => c.getByRole('button', { name: /Sync now/ }).click(),
        /^.*Sync campaigns: (caught-up|more|failed|a run was already in progress)/,
      );
      await waitUntil('the last-run line to change', async () => ((await lastRun.textContent()) ?? '') !== before);
      assert(((await c.locator('.card-result').textContent()) ?? '').includes('Sync campaigns'), `card shows no result (status: ${text})`);
    });

    await check('"Reset cursor" asks for confirmation, then resets', async () => {
      const c = card(page, 'mailboxes');
      const dialog = page.getByRole('dialog', { name: 'Reset the mailboxes cursor?' });
      await actAndWait(
        page,
        async () => {
          await c.getByRole('button', { name: /Reset cursor/ }).click();
          await dialog.waitFor({ state: 'visible' });
          assert(((await dialog.textContent()) ?? '').includes('re-read every row'), 'the dialog does not explain the reset');
          await dialog.getByRole('button', { name: 'Reset cursor' }).click();
        },
        /Reset mailboxes: cursor reset/,
      );
      assert(!(await dialog.isVisible()), 'the dialog stayed open');
    });

    await check('cancelling a confirmation (Escape) changes nothing', async () => {
      await page.getByRole('button', { name: /Full resync/ }).click();
      const dialog = page.getByRole('dialog', { name: 'Run a full resync?' });
      await dialog.waitFor({ state: 'visible' });
      await page.keyboard.press('Escape');
      await waitUntil('the cancel message', async () => (await statusText(page)).includes('Cancelled'));
      const focused = await page.evaluate(() => document.activeElement?.id ?? '');
      assert(focused === 'full-resync', `focus went to "${focused}" instead of back to the Full resync button`);
    });

    await check('the 5 s refresh keeps focus and scroll position', async () => {
      const button = card(page, 'emails').getByRole('button', { name: /Sync now/ });
      await button.focus();
      await page.evaluate(() => window.scrollTo(0, 400));
      const scrollBefore = await page.evaluate(() => window.scrollY);
      // Two refreshes in a row: at least one of them comes from the 5 s timer, not from an action.
      for (let i = 0; i < 2; i++) {
        const before = (await page.locator('#refresh-text').textContent()) ?? '';
        await waitUntil('a refresh', async () => ((await page.locator('#refresh-text').textContent()) ?? '') !== before, 12_000);
      }
      assert(await button.evaluate((b) => b === document.activeElement), 'focus was lost by the refresh');
      const scrollAfter = await page.evaluate(() => window.scrollY);
      assert(Math.abs(scrollAfter - scrollBefore) < 2, `scroll moved from ${scrollBefore} to ${scrollAfter}`);
      await page.evaluate(() => window.scrollTo(0, 0));
    });

    await check('recent runs, conflicts, quarantine and consistency sections are filled', async () => {
      // A run that moves a row, whatever the stack's state (a stack started long ago has only idle
      // runs in its newest log): a prospect changed in Supabase (re-stamped), pulled by Sync now.
      await supabaseSql(`update prospects set tier = tier where id = (select id from prospects order by id limit 1)`);
      // A run already in progress may have read its page before the change: then sync again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const said = await actAndWait(
          page,
          () =>
            card(page, 'prospects')
              .getByRole('button', { name: /Sync now/ })
              .click(),
          /Sync prospects: (caught-up|more|a run was already in progress)/,
        );
        if (!said.includes('already in progress')) break;
      }
      await waitUntil('runs in the table', async () => (await page.locator('#runs-body tr th[scope="row"]').count()) > 0);
      assert((await page.locator('#conflicts-body tr').count()) > 0, 'conflicts table is empty (not even the empty-state row)');
      assert((await page.locator('#quarantine-body tr').count()) > 0, 'quarantine table is empty (not even the empty-state row)');
      await waitUntil(
        'a consistency card per entity',
        async () => (await page.locator('article[data-integrity-entity]').count()) === ENTITIES.length,
      );
      assert(
        (await page.locator('#integrity-history-body tr').count()) > 0,
        'the consistency history is empty (not even the empty-state row)',
      );
      assert(
        ((await page.locator('#integrity-alerts').textContent()) ?? '').includes('Active alerts'),
        'the active alerts block is missing',
      );
    });

    await check('one request per refresh: GET /api/dashboard and nothing else', async () => {
      const calls: string[] = [];
      const onRequest = (r: Request): void => {
        const url = new URL(r.url());
        if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/objects/')) calls.push(`${r.method()} ${url.pathname}`);
      };
      // From one refresh line to the next one: exactly the timer's refresh in between.
      const first = (await page.locator('#refresh-text').textContent()) ?? '';
      await waitUntil('a refresh', async () => ((await page.locator('#refresh-text').textContent()) ?? '') !== first, 12_000);
      page.on('request', onRequest);
      const second = (await page.locator('#refresh-text').textContent()) ?? '';
      await waitUntil('the next refresh', async () => ((await page.locator('#refresh-text').textContent()) ?? '') !== second, 12_000);
      page.off('request', onRequest);
      assert(JSON.stringify(calls) === JSON.stringify(['GET /api/dashboard']), `one refresh sent ${JSON.stringify(calls)}`);
    });

    await check('recent runs: an inline SVG chart per entity; idle runs hidden by default, listed with the switch', async () => {
      for (const entity of ENTITIES)
        await page.locator(`#runs-charts figure[data-chart-entity="${entity}"]`).waitFor({ state: 'attached' });
      // The prospects chart has bars (the run planted by the check above moved a row), and the lag line's dots.
      const prospects = page.locator('#runs-charts figure[data-chart-entity="prospects"]');
      await waitUntil('bars in the prospects chart', async () => (await prospects.locator('svg rect.bar').count()) > 0);
      assert((await prospects.locator('svg').getAttribute('role')) === 'img', 'the chart has no role=img');
      assert(
        ((await prospects.locator('svg').getAttribute('aria-label')) ?? '').includes('rows moved'),
        'the chart has no text alternative',
      );
      assert((await prospects.locator('svg circle.lag-dot').count()) > 0, 'no pull lag drawn for prospects');
      await page.locator('#runs').screenshot({ path: join(resultsDir, 'dashboard-runs.png') });

      /** [outcome, applied, deleted, quarantined, conflicts] of each listed run. */
      const listed = async (): Promise<{ outcome: string; changed: number }[]> =>
        page.locator('#runs-body tr').evaluateAll((rows) =>
          rows.flatMap((tr) => {
            const cells = Array.from(tr.children).map((c) => c.textContent.trim());
            if (cells.length < 15) return [];
            const n = (i: number): number => Number(cells[i]) || 0;
            return [{ outcome: cells[3] ?? '', changed: n(6) + n(7) + n(9) + n(10) }];
          }),
        );
      const idle = (r: { outcome: string; changed: number }): boolean => r.outcome.includes('caught-up') && r.changed === 0;
      const hidden = await listed();
      assert(hidden.length > 0, 'no runs listed');
      assert(!hidden.some(idle), `idle runs listed while hidden: ${JSON.stringify(hidden.filter(idle))}`);

      const toggle = page.getByLabel('Show idle runs');
      assert(!(await toggle.isChecked()), 'the switch starts on');
      const asked = page.waitForRequest(
        (r) => r.url().includes('/api/dashboard?') && new URL(r.url()).searchParams.get('idle') === 'include',
      );
      await toggle.check();
      await asked;
      // The local stack's quiet runs (every few seconds) are idle: they show up once listed.
      await waitUntil('an idle run in the table', async () => (await listed()).some(idle), 30_000);
      assert(
        ((await page.locator('#runs-caption').textContent()) ?? '').includes('idle ones included'),
        'the caption still says idle runs are hidden',
      );
      await toggle.uncheck();
      await waitUntil('idle runs hidden again', async () => {
        const rows = await listed();
        return rows.length > 0 && !rows.some(idle);
      });
    });

    await check(
      'freshness: a row written in Supabase shows, on the card and in the chart, how long it took from its updated_at to D1',
      async () => {
        // Stamped by Supabase (an explicit older updated_at would sit behind the pull cursor, which only
        // reconciliation finds); read back in D1's canonical form, microseconds included.
        const [row] = await supabaseSql<{ stamped: string }>(
          `insert into campaigns (name, description, status) values ('e2e freshness', 'planted by test/e2e/run.ts', 'draft') ` +
            `returning to_char(updated_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as stamped`,
        );
        const stamped = row?.stamped ?? '';
        const stampedMs = Date.parse(`${stamped.slice(0, 23)}Z`);
        assert(Number.isFinite(stampedMs), `no updated_at came back: ${JSON.stringify(row)}`);
        const c = card(page, 'campaigns');
        // The stack's alarm may apply it before this click does; either way the card reports that run.
        await actAndWait(
          page,
          () => c.getByRole('button', { name: /Sync now/ }).click(),
          /Sync campaigns: (caught-up|more|a run was already in progress)/,
        );
        const freshness = c.locator('[data-freshness="pull"]');
        await waitUntil("the planted row's lag on the card", async () => ((await freshness.getAttribute('title')) ?? '').includes(stamped));
        const observedMs = Date.now();
        const lagMs = Number(await freshness.getAttribute('data-lag-ms'));
        // Applied after the row was written (its updated_at), before it was observed here.
        assert(lagMs >= 0 && lagMs <= observedMs - stampedMs, `lag ${lagMs} ms, expected 0..${observedMs - stampedMs}`);
        assert(
          /Pull: .+ from Supabase to D1/.test((await freshness.textContent()) ?? ''),
          `freshness text: ${await freshness.textContent()}`,
        );
        const chart = page.locator('#runs-charts figure[data-chart-entity="campaigns"]');
        await waitUntil(
          'the lag point in the campaigns chart',
          async () => (await chart.locator(`circle.lag-dot[data-lag-ms="${lagMs}"]`).count()) === 1,
        );
        const pushFreshness = card(page, 'emails').locator('[data-freshness="push"]');
        assert(
          /^Push: (oldest unsent change .+ old|nothing waiting)$/.test(((await pushFreshness.textContent()) ?? '').trim()),
          'no push freshness on the emails card',
        );
      },
    );

    await check('consistency: "Run checks" shows an extra D1 row, "Run checks and fix" repairs it, then the drift is gone', async () => {
      const c = integrityCard(page, 'campaigns');
      // The stack's local state may hold drift of its own (rows planted by hand, rows no fix can
      // take): start from a repaired state and compare against what a plain check sees there.
      await runAndWaitForCard(page, c.getByRole('button', { name: 'Check and fix campaigns' }), 'Run checks and fix (campaigns)', c);
      await runAndWaitForCard(page, c.getByRole('button', { name: 'Check campaigns', exact: true }), 'Run checks (campaigns)', c);
      const baseline = await driftOf(c);

      const id = crypto.randomUUID();
      const at = canonicalNow();
      // A row only D1 holds: what a direct edit of the replica (or a lost upstream delete) leaves behind.
      await d1Execute(
        `INSERT INTO campaigns (id, name, description, status, daily_limit, sequence_steps, created_at, updated_at) ` +
          `VALUES ('${id}', 'e2e drift', 'planted by test/e2e/run.ts', 'draft', 10, 1, '${at}', '${at}')`,
      );

      // The request is held in flight: both buttons say they are busy and a second click sends nothing.
      let posts = 0;
      const countPosts = (r: Request): void => {
        if (r.method() === 'POST' && r.url().endsWith('/api/integrity/run')) posts++;
      };
      page.on('request', countPosts);
      let letGo: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        letGo = r;
      });
      await page.route('**/api/integrity/run', async (route) => {
        await gate;
        await route.continue();
      });
      let found: string;
      try {
        found = await runAndWaitForCard(page, page.locator('#integrity-run'), 'Run checks', c, async () => {
          await waitUntil(
            'both run buttons to be busy',
            async () =>
              (await page.locator('#integrity-run').getAttribute('aria-disabled')) === 'true' &&
              (await page.locator('#integrity-fix').getAttribute('aria-disabled')) === 'true',
          );
          await page.locator('#integrity-fix').click({ force: true }); // Playwright would wait for an aria-disabled button
          letGo();
        });
      } finally {
        letGo();
        await page.unroute('**/api/integrity/run');
        page.off('request', countPosts);
      }
      assert(posts === 1, `expected one POST while busy, saw ${posts}`);
      assert((await page.locator('#integrity-run').getAttribute('aria-disabled')) === null, 'the button stayed busy');
      assert(/campaigns: (.*extra in D1|queued|running)/.test(found), `the result does not mention the campaigns drift: ${found}`);

      const drifted = await driftOf(c);
      assert(drifted.extra === baseline.extra + 1, `extra in D1: ${drifted.extra}, expected ${baseline.extra + 1}`);
      assert(drifted.found === baseline.found + 1, `drift found: ${drifted.found}, expected ${baseline.found + 1}`);
      assert((await integrityStat(c, 'drift', 'Repaired')) === 'not asked', 'a report-only run shows repairs');
      assert(drifted.d1 === baseline.d1 + 1, `D1 rows: ${drifted.d1}, expected ${baseline.d1 + 1}`);
      assert(/\d+ problems?/.test((await c.locator('.card-head').textContent()) ?? ''), 'the card does not say it has problems');
      assert((await c.locator('.check-list li[data-check="replica_drift"]').count()) === 1, 'no replica_drift line');
      assert((await c.getAttribute('data-healthy')) === 'false', 'the card is not marked as not ok');
      await waitUntil('the history to list the run', async () =>
        ((await page.locator('#integrity-history-body tr').filter({ hasText: 'campaigns' }).first().textContent()) ?? '').includes(
          'problems',
        ),
      );

      const fixed = await runAndWaitForCard(page, page.locator('#integrity-fix'), 'Run checks and fix', c);
      const repaired = Number(await integrityStat(c, 'drift', 'Repaired'));
      assert(repaired >= 1, `repaired: ${repaired} (${fixed})`);
      assert(
        /Fix: repaired \d+ row/.test((await c.locator('.check-list li[data-check="replica_drift"]').textContent()) ?? ''),
        'no fix text on the drift line',
      );
      await waitUntil('the history to list the repair', async () =>
        ((await page.locator('#integrity-history-body tr').filter({ hasText: 'campaigns' }).first().textContent()) ?? '').includes('yes'),
      );

      await runAndWaitForCard(page, page.locator('#integrity-run'), 'Run checks', c);
      const after = await driftOf(c);
      assert(
        after.extra === baseline.extra && after.found === baseline.found && after.d1 === baseline.d1,
        `after the fix: ${JSON.stringify(after)}, before the row was planted: ${JSON.stringify(baseline)}`,
      );
      if (baseline.found === 0) {
        assert(
          (await c.locator('.check-list li[data-check="replica_drift"], .check-list li[data-check="row_counts"]').count()) === 0,
          'drift or a count difference is still listed',
        );
        assert((await integrityStat(c, 'counts', 'Difference')) === '0', 'the counts still differ');
      } else {
        console.log(`    note: the local state holds ${baseline.found} campaigns row(s) of drift no fix removes; compared against that`);
      }
    });

    await check(
      'consistency: after a counts-only run (as the hourly one) the card still says what the last row comparison found',
      async () => {
        const c = integrityCard(page, 'mailboxes');
        const before = (await c.getAttribute('data-run-id')) ?? '';
        const res = await fetch(`${baseUrl}/api/integrity/run`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ fix: false, reconcile: false, entities: ['mailboxes'] }),
        });
        assert(res.ok, `POST /api/integrity/run answered ${res.status}: ${await res.text()}`);
        await waitUntil(
          'the counts-only run on the card',
          async () => ((await c.getAttribute('data-run-id')) ?? '') !== before && ((await c.textContent()) ?? '').includes('counts only'),
          30_000,
        );
        const text = (await c.textContent()) ?? '';
        assert(/Last compared .+ differed/.test(text), `the card does not show the last comparison: ${text}`);
        assert((await c.locator('dl[data-part="drift"]').count()) === 0, 'a counts-only run shows drift boxes');
      },
    );

    await check('consistency: held rows, alerts, jobs and failed runs render as text; "Release" posts the row id', async () => {
      // The API answer is patched in the browser: held rows, an alert and a job without planting them in the stack.
      const hostile = '<img src=x id=planted-img> & "quotes"';
      const heldIds = [crypto.randomUUID(), crypto.randomUUID()];
      const now = new Date().toISOString();
      const isIntegrity = (url: URL): boolean => url.pathname === '/api/dashboard';
      await page.route(isIntegrity, async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { integrity: { ok: boolean; data: { entities: Record<string, unknown>[] } } };
        for (const e of body.integrity.data.entities) {
          if (e['entity'] !== 'emails') continue;
          e['held'] = heldIds.map((rowId) => ({
            rowId,
            reason: `duplicate message_id ${hostile}`,
            check: 'duplicate_message_ids',
            heldAt: now,
          }));
          e['heldCount'] = heldIds.length;
          e['alerts'] = [
            {
              key: 'emails:duplicate_message_ids',
              entity: 'emails',
              check: 'duplicate_message_ids',
              summary: hostile,
              since: now,
              lastSentAt: null,
            },
          ];
          e['jobs'] = [
            { kind: 'integrity', requestedAt: now, trigger: 'manual', fix: true, phase: 'reconcile', progress: 'key ranges 2/4' },
          ];
          const latest = e['latest'] as { error: string | null } | null;
          if (latest) latest.error = `Supabase answered 503 ${hostile}`;
        }
        await route.fulfill({ response, json: body });
      });
      let released: unknown = null;
      await page.route('**/objects/emails/held/release', async (route) => {
        released = route.request().postDataJSON();
        await route.fulfill({ json: { entity: 'emails', released: [heldIds[0]] } });
      });
      try {
        const c = integrityCard(page, 'emails');
        await waitUntil('the patched answer on the emails card', async () => ((await c.textContent()) ?? '').includes('2 held rows'));
        const text = (await c.textContent()) ?? '';
        assert(text.includes('key ranges 2/4'), 'no job progress');
        assert(text.includes('Run failed: Supabase answered 503 <img'), 'no run error');
        assert(
          (await page.locator('#integrity-alerts').textContent())?.includes(`emailsDuplicate message_ids${hostile}`),
          'the alert is not listed',
        );
        assert((await page.locator('#planted-img').count()) === 0, 'server text was parsed as HTML');

        await c.locator('details.held summary').click();
        const release = c.getByRole('button', { name: `Release row ${heldIds[0]}` });
        await release.waitFor({ state: 'visible' });
        // The list stays open, and focus stays on the same button, across the 5 s refresh that rebuilds the card.
        await release.focus();
        const refreshed = (await page.locator('#refresh-text').textContent()) ?? '';
        await waitUntil('a refresh', async () => ((await page.locator('#refresh-text').textContent()) ?? '') !== refreshed, 12_000);
        assert(await c.locator('details.held').evaluate((d) => (d as HTMLDetailsElement).open), 'the held list closed on refresh');
        const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-key') ?? '');
        assert(focused === `release:emails:${heldIds[0]}`, `focus moved to "${focused}" on refresh`);

        await release.click();
        await waitUntil('the release result', async () =>
          /^Release emails row [0-9a-f]{8}: released/.test(((await page.locator('#integrity-result').textContent()) ?? '').trim()),
        );
        assert(JSON.stringify(released) === JSON.stringify({ ids: [heldIds[0]] }), `release body: ${JSON.stringify(released)}`);
      } finally {
        // Waits for a patched refresh still in flight: removing its route under it fails the whole run.
        await page.unrouteAll({ behavior: 'wait' });
      }
    });

    await check('accessibility basics: headings, labels, table headers, <time datetime>', async () => {
      const report = await page.evaluate(() => {
        const problems: string[] = [];
        if (document.querySelectorAll('h1').length !== 1) problems.push('expected exactly one h1');
        for (const th of Array.from(document.querySelectorAll('thead th')))
          if (!th.getAttribute('scope')) problems.push(`th without scope: ${th.textContent}`);
        for (const t of Array.from(document.querySelectorAll('time')))
          if (!t.getAttribute('datetime')) problems.push(`time without datetime: ${t.textContent}`);
        for (const b of Array.from(document.querySelectorAll('button')))
          if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push('button without a name');
        for (const i of Array.from(document.querySelectorAll('input, select')))
          if (!i.id || !document.querySelector(`label[for="${i.id}"]`)) problems.push(`unlabelled ${i.tagName}`);
        if (document.querySelectorAll('[aria-live]').length === 0) problems.push('no aria-live region');
        if (document.querySelectorAll('time[datetime]').length === 0) problems.push('no <time> elements rendered');
        return problems;
      });
      assert(report.length === 0, report.join('; '));
      await page.keyboard.press('Tab');
      const outline = await page.evaluate(() => {
        const el = document.activeElement;
        return el ? getComputedStyle(el).outlineStyle : 'none';
      });
      assert(outline !== 'none', 'the focused element has no visible focus outline');
    });

    await check('desktop screenshot', async () => {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(resultsDir, 'dashboard.png'), fullPage: true });
      await page.locator('#consistency').screenshot({ path: join(resultsDir, 'dashboard-consistency.png') });
    });

    await check('phone layout: no horizontal overflow, screenshot', async () => {
      const phone = await phoneContext(browser);
      const p = await phone.newPage();
      watchProblems(p, pageProblems);
      await p.goto(`${baseUrl}/dashboard`);
      await signIn(p, token);
      await card(p, 'emails').waitFor({ state: 'visible' });
      await waitUntil('the refresh line', async () => ((await p.locator('#refresh-state').textContent()) ?? '').includes('Updated'));
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the page is ${overflow}px wider than the phone screen`);
      await p.screenshot({ path: join(resultsDir, 'dashboard-phone.png'), fullPage: true });
      await phone.close();
    });

    await check(
      "an inline script injected into the page does not run (the CSP allows the page's own script by its hash only)",
      async () => {
        // A page of its own: the violation it provokes is expected, and must not count against the main page.
        const p = await desktop.newPage();
        await p.goto(`${baseUrl}/dashboard`);
        const outcome = await p.evaluate(
          () =>
            new Promise<{ ran: boolean; violated: string | null }>((resolve) => {
              const w = window as unknown as { injectedRan?: boolean };
              let violated: string | null = null;
              document.addEventListener('securitypolicyviolation', (e) => {
                violated = e.violatedDirective;
              });
              const s = document.createElement('script');
              s.textContent = 'window.injectedRan = true;';
              document.body.append(s);
              // The violation event is queued as a task: give it one turn.
              setTimeout(() => resolve({ ran: w.injectedRan === true, violated }), 50);
            }),
        );
        await p.close();
        assert(!outcome.ran, 'an injected inline script ran');
        assert(outcome.violated?.startsWith('script-src') === true, `expected a script-src violation, saw ${String(outcome.violated)}`);
      },
    );

    await check('"Forget token" signs out and clears the data', async () => {
      await page.getByRole('button', { name: 'Forget token' }).click();
      await page.getByLabel('Admin token').waitFor({ state: 'visible' });
      assert((await page.evaluate(() => sessionStorage.length)) === 0, 'the token is still in sessionStorage');
      assert((await page.locator('article[data-entity]').count()) === 0, 'entity data is still in the page');
    });
  }

  await check('no script errors or CSP violations on the page, and no request to another origin', () => {
    assert(pageProblems.length === 0, pageProblems.join('\n'));
    const origin = new URL(baseUrl).origin;
    const elsewhere = requested.filter((u) => new URL(u).origin !== origin);
    assert(elsewhere.length === 0, `requests to other origins: ${elsewhere.join(', ')}`);
  });
}

function phoneContext(b: Browser | null): Promise<BrowserContext> {
  assert(b, 'no browser');
  return b.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'light',
  });
}

/** Collects uncaught errors and console errors (CSP violations land there); HTTP statuses are expected. */
function watchProblems(page: Page, into: string[]): void {
  page.on('pageerror', (e) => into.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('Failed to load resource')) into.push(`console error: ${m.text()}`);
  });
}

const started = Date.now();
let fatal: unknown = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
try {
  await main();
} catch (e) {
  fatal = e;
} finally {
  await cleanup();
}
if (fatal !== null) {
  const error = fatal instanceof Error ? fatal.message : inspect(fatal);
  results.push({ name: 'setup', ok: false, ms: 0, error });
  console.log(`  ✗ setup\n    ${error}`);
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
if (results.some((r) => r.ok && r.name === 'desktop screenshot'))
  console.log(
    `Screenshots: ${['dashboard.png', 'dashboard-runs.png', 'dashboard-consistency.png', 'dashboard-phone.png'].map((f) => join(resultsDir, f)).join(', ')}`,
  );
console.log(`Took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
