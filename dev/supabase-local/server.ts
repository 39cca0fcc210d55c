// HTTP wiring of the local Supabase stand-in: auth, routing (`/rest/v1`, `/db/<name>/…`,
// `/_dev/*`), fault injection and request stats. See docs/local-stack.md.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DATABASE_NAME, DatabaseRegistry } from './databases.ts';
import { handleDev } from './dev-endpoints.ts';
import { ApiError, invalidKey, toApiError, unauthorized } from './errors.ts';
import { handleRest } from './rest.ts';
import { TX_END_VALUES, type TxEnd } from './request-headers.ts';

/** Options of {@link startLocalSupabase}; see docs/local-stack.md for each. */
export interface LocalSupabaseOptions {
  port?: number;
  host?: string;
  migrationsDir?: string;
  dataDir?: string;
  databaseUrl?: string;
  serviceRoleKey?: string;
  maxRows?: number;
  seedFile?: string;
  quiet?: boolean;
  /**
   * PostgREST's `db-tx-end` (env `PGRST_DB_TX_END`). Default `commit`, as on Supabase: `Prefer: tx=rollback`
   * is then ignored; `commit-allow-override` honours it.
   */
  txEnd?: TxEnd;
  /**
   * Longest request target (path and query string, in bytes) accepted, like the API gateway in
   * front of Supabase's PostgREST; longer ones answer 414 with the gateway's HTML body. Default
   * {@link DEFAULT_MAX_URL_BYTES} (env `SUPABASE_MAX_URL_BYTES`); 0 turns the check off.
   */
  maxUrlBytes?: number;
  /**
   * PostgREST's `db-aggregates-enabled` (env `PGRST_DB_AGGREGATES_ENABLED`): off by default, as on
   * Supabase (enabled there with `alter role authenticator set pgrst.db_aggregates_enabled = 'true'`);
   * off, `count()`/`sum()`… answer 400 PGRST123.
   */
  aggregatesEnabled?: boolean;
}

/** The default URL limit: 8 KiB, nginx's default request-line buffer (`large_client_header_buffers 4 8k`), which gateways such as Kong inherit. */
export const DEFAULT_MAX_URL_BYTES = 8192;

/** The body a gateway (nginx/Kong) sends with a 414: HTML, not PostgREST's JSON error shape. */
export const URI_TOO_LONG_BODY =
  '<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n<center><h1>414 Request-URI Too Large</h1></center>\r\n</body>\r\n</html>\r\n';

/** A running stand-in. */
export interface LocalSupabase {
  url: string;
  port: number;
  serviceRoleKey: string;
  close(): Promise<void>;
}

/** The well-known service_role key of `supabase start` (a public demo key, local use only). */
export const DEFAULT_SERVICE_ROLE_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Range-Unit, Preference-Applied, Retry-After, Location',
};

interface Route {
  database: string | null;
  kind: 'rest' | 'dev';
  /** For rest: the part after /rest/v1/ (table or rpc/fn); for dev: the /_dev/... path. */
  path: string;
}

/** Splits `/db/<name>/rest/v1/<resource>` and `/rest/v1/<resource>` (and the /_dev equivalents). */
export function route(pathname: string): Route | null {
  let database: string | null = null;
  let rest = pathname;
  const m = /^\/db\/([^/]+)(\/.*)?$/.exec(pathname);
  if (m !== null) {
    database = decodeURIComponent(m[1] ?? '');
    if (!DATABASE_NAME.test(database)) throw new ApiError(400, 'DEV400', 'Database names must match /^[a-z0-9_-]{1,64}$/');
    rest = m[2] ?? '/';
  }
  if (rest === '/rest/v1' || rest === '/rest/v1/') return { database, kind: 'rest', path: '' };
  if (rest.startsWith('/rest/v1/'))
    return { database, kind: 'rest', path: decodeURIComponent(rest.slice('/rest/v1/'.length)).replace(/\/$/, '') };
  if (rest.startsWith('/_dev/')) return { database, kind: 'dev', path: rest.replace(/\/$/, '') };
  return null;
}

function checkAuth(req: IncomingMessage, key: string): void {
  const apikey = req.headers['apikey'];
  const authorization = req.headers.authorization;
  const apikeyValue = Array.isArray(apikey) ? apikey[0] : apikey;
  if (apikeyValue === key || authorization === `Bearer ${key}`) return;
  if (apikeyValue === undefined && authorization === undefined) throw unauthorized();
  throw invalidKey();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'PGRST413', 'Request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...CORS_HEADERS, ...headers, 'Content-Length': String(bytes.length) });
  res.end(bytes);
}

function sendError(res: ServerResponse, e: unknown): number {
  const err = toApiError(e);
  send(res, err.status, { 'Content-Type': 'application/json; charset=utf-8', ...err.headers }, JSON.stringify(err.body()));
  return err.status;
}

/** Writes the headers and about half of the body, then destroys the socket. */
function sendDropped(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...CORS_HEADERS, ...headers, 'Content-Length': String(bytes.length + 1) });
  res.flushHeaders();
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
    res.socket?.destroy();
  });
}

/** Reads a `db-tx-end` value (CLI flag or env); unset means Supabase's `commit`. */
export function parseTxEnd(raw: string | undefined): TxEnd {
  if (raw === undefined || raw === '') return 'commit';
  const found = TX_END_VALUES.find((v) => v === raw);
  if (found === undefined) throw new Error(`db-tx-end must be one of ${TX_END_VALUES.join(', ')} (got ${raw})`);
  return found;
}

/** Reads the URL limit (CLI flag or env): a non-negative integer of bytes; unset means {@link DEFAULT_MAX_URL_BYTES}. */
export function parseMaxUrlBytes(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_MAX_URL_BYTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`max-url-bytes must be a non-negative integer (got ${raw})`);
  return n;
}

/** Starts the stand-in: an HTTP server answering /rest/v1 and /_dev for the default and named databases. */
export async function startLocalSupabase(options: LocalSupabaseOptions = {}): Promise<LocalSupabase> {
  const key = options.serviceRoleKey ?? process.env['SUPABASE_SERVICE_ROLE_KEY'] ?? DEFAULT_SERVICE_ROLE_KEY;
  const maxRows = options.maxRows ?? 1000;
  const txEnd = options.txEnd ?? parseTxEnd(process.env['PGRST_DB_TX_END']);
  const maxUrlBytes = options.maxUrlBytes ?? parseMaxUrlBytes(process.env['SUPABASE_MAX_URL_BYTES']);
  const aggregatesEnabled = options.aggregatesEnabled ?? process.env['PGRST_DB_AGGREGATES_ENABLED'] === 'true';
  const quiet = options.quiet ?? false;
  const log = (message: string): void => {
    if (!quiet) console.log(`[supabase-local] ${message}`);
  };
  const registry = new DatabaseRegistry({
    ...(options.migrationsDir !== undefined ? { migrationsDir: options.migrationsDir } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.databaseUrl !== undefined ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.seedFile !== undefined ? { seedFile: options.seedFile } : {}),
    log,
  });
  registry.warmUp();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    let status = 0;
    try {
      // The gateway refuses a long URL before anything else (auth, routing) sees the request.
      if (maxUrlBytes > 0 && Buffer.byteLength(req.url ?? '', 'utf8') > maxUrlBytes) {
        send(res, 414, { 'Content-Type': 'text/html' }, URI_TOO_LONG_BODY);
        status = 414;
        return;
      }
      if (method === 'OPTIONS') {
        send(
          res,
          204,
          {
            'Access-Control-Allow-Methods': 'GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS',
            'Access-Control-Allow-Headers': header(req, 'access-control-request-headers') ?? '*',
            'Access-Control-Max-Age': '86400',
          },
          '',
        );
        status = 204;
        return;
      }
      checkAuth(req, key);
      const r = route(url.pathname);
      if (r === null) throw new ApiError(404, 'DEV404', `Not found: ${url.pathname} (the stand-in serves /rest/v1 and /_dev only)`);
      const body = await readBody(req);
      if (r.kind === 'dev' && r.path === '/_dev/database' && method === 'DELETE') {
        if (r.database === null) throw new ApiError(400, 'DEV400', 'The default database cannot be dropped');
        const dropped = await registry.drop(r.database);
        send(res, 200, { 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify({ dropped }));
        status = 200;
        return;
      }
      const entry = await registry.get(r.database);
      if (r.kind === 'dev') {
        const out = await handleDev(entry, method, r.path, body);
        send(res, out.status, { 'Content-Type': 'application/json; charset=utf-8' }, out.body);
        status = out.status;
        return;
      }
      entry.stats.record(method, r.path === '' ? '/' : r.path);
      const decision = entry.faults.decide(`/rest/v1/${r.path}`);
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.kind === 'error') {
        status = sendError(res, decision.error);
        return;
      }
      const out = await handleRest(
        { entry, maxRows, txEnd, aggregatesEnabled },
        {
          method,
          resource: r.path,
          search: url.searchParams,
          header: (name) => header(req, name),
          prefer: ([] as string[]).concat(req.headers['prefer'] ?? []),
          body,
        },
      ).catch((e: unknown) => {
        const err = toApiError(e);
        return {
          status: err.status,
          headers: { 'Content-Type': 'application/json; charset=utf-8', ...err.headers },
          body: JSON.stringify(err.body()),
        };
      });
      status = out.status;
      if (decision.responseDelayMs) await sleep(decision.responseDelayMs);
      if (decision.kind === 'drop') {
        sendDropped(res, out.status, out.headers, out.body);
        status = -out.status;
        return;
      }
      send(res, out.status, out.headers, out.body);
    } catch (e) {
      status = sendError(res, e);
    } finally {
      log(`${method} ${url.pathname}${url.search} → ${status < 0 ? `${-status} (dropped)` : status} ${Date.now() - started} ms`);
    }
  }

  // Node refuses request heads over 16 KiB with 431 before any handler runs: leave room above the URL limit.
  const server = createServer({ maxHeaderSize: Math.max(16 * 1024, maxUrlBytes + 16 * 1024) }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, e);
      else res.destroy();
    });
  });
  // Node closes an idle kept-alive connection after 5 s, and workerd reuses pooled connections:
  // one closed just as it was reused failed the request with "Network connection lost" (a 1M-row
  // bench run died of it). Gateways keep idle connections for about a minute; so does this.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 54321, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    serviceRoleKey: key,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await registry.closeAll();
    },
  };
}
