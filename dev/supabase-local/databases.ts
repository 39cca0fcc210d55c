// Database adapters (embedded PGlite, or a Postgres server through `pg`) behind one small
// interface, and the lazy registry of named databases (each with its own schema cache,
// faults and request stats).

import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { loadCatalog, type Catalog } from './catalog.ts';
import { ApiError } from './errors.ts';
import { FaultController, RequestStats } from './faults.ts';
import { applyMigrations, applySeed } from './migrations.ts';

/** A result row as the driver returns it (dates as text). */
export type Row = Record<string, unknown>;
/** A bound parameter: text (untyped, Postgres infers the type) or null. */
export type Param = string | null;

/** Something that runs SQL: a database or an open transaction. */
export interface Queryer {
  /** One statement with `$n` parameters (sent untyped, so Postgres infers their types). */
  query(text: string, params?: readonly Param[]): Promise<Row[]>;
  /** A script of one or more statements without parameters; returns the rows of the last one. */
  exec(script: string): Promise<Row[]>;
}

/** A database connection (PGlite or a `pg` pool) with transactions. */
export interface Database extends Queryer {
  readonly kind: 'pglite' | 'pg';
  transaction<T>(fn: (tx: Queryer) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// PGlite

interface WasmModules {
  pglite: WebAssembly.Module;
  initdb: WebAssembly.Module;
}
let wasmModules: Promise<WasmModules> | null = null;

/** Compiles PGlite's two wasm modules once per process; each new instance then starts faster. */
function compiledWasm(): Promise<WasmModules> {
  wasmModules ??= (async () => {
    // createRequire rather than import.meta.resolve: the latter is missing in vite's module
    // runner, which loads this file when vitest global setups import it.
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pgliteBytes, initdbBytes] = await Promise.all([readFile(join(dist, 'pglite.wasm')), readFile(join(dist, 'initdb.wasm'))]);
    const [pglite, initdb] = await Promise.all([WebAssembly.compile(pgliteBytes), WebAssembly.compile(initdbBytes)]);
    return { pglite, initdb };
  })();
  return wasmModules;
}

// Keep date/time values as the text Postgres produced: never through a JS Date.
const TEXT_TYPES = [1082, 1083, 1114, 1184, 1266, 1186];
const identity = (v: string): string => v;

interface PGliteResults {
  rows: unknown[];
}

function pgliteRows(r: PGliteResults): Row[] {
  return r.rows as Row[];
}

class PGliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly pg: PGlite;
  constructor(instance: PGlite) {
    this.pg = instance;
  }

  async query(text: string, params: readonly Param[] = []): Promise<Row[]> {
    return pgliteRows(await this.pg.query(text, [...params]));
  }

  async exec(script: string): Promise<Row[]> {
    const results = await this.pg.exec(script);
    const last = results[results.length - 1];
    return last === undefined ? [] : pgliteRows(last);
  }

  transaction<T>(fn: (tx: Queryer) => Promise<T>): Promise<T> {
    return this.pg.transaction(async (tx) =>
      fn({
        query: async (text, params = []) => pgliteRows(await tx.query(text, [...params])),
        exec: async (script) => {
          const results = await tx.exec(script);
          const last = results[results.length - 1];
          return last === undefined ? [] : pgliteRows(last);
        },
      }),
    );
  }

  async dump(): Promise<Blob> {
    return this.pg.dumpDataDir('none');
  }

  close(): Promise<void> {
    return this.pg.close();
  }
}

/** Opens an embedded PGlite database (in memory, on disk, or from a snapshot) with the session settings PostgREST uses. */
export async function openPGlite(options: { dataDir?: string; template?: Blob }): Promise<PGliteDatabase> {
  const wasm = await compiledWasm();
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const parsers = Object.fromEntries(TEXT_TYPES.map((oid) => [oid, identity]));
  const instance = await PGlite.create({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.template !== undefined ? { loadDataDir: options.template } : {}),
    pgliteWasmModule: wasm.pglite,
    initdbWasmModule: wasm.initdb,
    parsers,
  });
  const db = new PGliteDatabase(instance);
  await db.exec(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'`);
  return db;
}

// ---------------------------------------------------------------------------------------------
// node-postgres

const rawTypes = { getTypeParser: () => identity };

class PgDatabase implements Database {
  readonly kind = 'pg' as const;
  readonly pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async query(text: string, params: readonly Param[] = []): Promise<Row[]> {
    const r = await this.pool.query({ text, values: [...params], types: rawTypes });
    return r.rows as Row[];
  }

  async exec(script: string): Promise<Row[]> {
    return lastPgRows(await this.pool.query({ text: script, types: rawTypes }));
  }

  async transaction<T>(fn: (tx: Queryer) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn({
        query: async (text, params = []) => (await client.query({ text, values: [...params], types: rawTypes })).rows as Row[],
        exec: async (script) => lastPgRows(await client.query({ text: script, types: rawTypes })),
      });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function lastPgRows(r: pg.QueryResult | pg.QueryResult[]): Row[] {
  if (Array.isArray(r)) {
    const last = r[r.length - 1];
    return last === undefined ? [] : (last.rows as Row[]);
  }
  return r.rows as Row[];
}

/** Opens a pool on a Postgres server with the session settings PostgREST uses. */
export function openPg(connectionString: string): PgDatabase {
  const pool = new pg.Pool({ connectionString, max: 5, options: '-c TimeZone=UTC -c DateStyle=ISO,MDY' });
  pool.on('error', () => undefined); // an idle client dying must not crash the dev server
  return new PgDatabase(pool);
}

/** The Postgres database name used for a named database in server mode. */
export function serverDatabaseName(base: string, name: string): string {
  const full = `${base}_${name}`.replace(/-/g, '_');
  return full.length <= 63 ? full : full.slice(0, 63);
}

// ---------------------------------------------------------------------------------------------
// Registry

/** Valid names of named databases (`/db/<name>`). */
export const DATABASE_NAME = /^[a-z0-9_-]{1,64}$/;

/** How the registry opens databases: migrations, seed, storage. */
export interface RegistryOptions {
  migrationsDir?: string;
  dataDir?: string;
  databaseUrl?: string;
  seedFile?: string;
  log: (message: string) => void;
}

/** One database with its schema cache, faults and request stats. */
export interface DatabaseEntry {
  /** `null` is the default database. */
  name: string | null;
  db: Database;
  faults: FaultController;
  stats: RequestStats;
  /**
   * The schema cache, loaded on first use. `via` runs the loading queries (pass the request's
   * transaction: PGlite has one connection, so a query outside an open transaction would wait for it).
   */
  catalog(via?: Queryer): Promise<Catalog>;
  invalidateCatalog(): void;
}

function makeEntry(name: string | null, db: Database): DatabaseEntry {
  let cached: Promise<Catalog> | null = null;
  return {
    name,
    db,
    faults: new FaultController(),
    stats: new RequestStats(),
    catalog(via: Queryer = db) {
      if (cached === null) {
        const p = loadCatalog(via);
        p.catch(() => {
          if (cached === p) cached = null;
        });
        cached = p;
      }
      return cached;
    },
    invalidateCatalog() {
      cached = null;
    },
  };
}

/** The default and named databases, created lazily once each. */
export class DatabaseRegistry {
  private readonly options: RegistryOptions;
  private readonly entries = new Map<string, Promise<DatabaseEntry>>();
  /** Named databases closed with drop(): they answer 410 instead of being created again. */
  private readonly dropped = new Set<string>();
  private template: Promise<Blob> | null = null;

  constructor(options: RegistryOptions) {
    this.options = options;
  }

  /** Returns the database, creating it (once, even under concurrent first requests) if needed. */
  get(name: string | null): Promise<DatabaseEntry> {
    if (name !== null && !DATABASE_NAME.test(name)) {
      return Promise.reject(new ApiError(400, 'DEV400', 'Database names must match /^[a-z0-9_-]{1,64}$/'));
    }
    const key = name ?? '';
    if (this.dropped.has(key)) {
      return Promise.reject(new ApiError(410, 'DEV410', `Database ${name ?? ''} was dropped; use a new name`));
    }
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = this.create(name);
      this.entries.set(key, entry);
      entry.catch(() => {
        this.entries.delete(key);
      });
    }
    return entry;
  }

  private async create(name: string | null): Promise<DatabaseEntry> {
    const started = Date.now();
    const db = await this.openDatabase(name);
    try {
      const { fresh, applied } = await this.migrate(db);
      if (fresh) await applySeed(db, this.options.seedFile);
      this.options.log(
        `database ${name ?? '(default)'} ready in ${Date.now() - started} ms${applied.length ? `, applied ${applied.join(', ')}` : ''}`,
      );
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return makeEntry(name, db);
  }

  private async migrate(db: Database): Promise<{ fresh: boolean; applied: string[] }> {
    try {
      return await applyMigrations(db, this.options.migrationsDir);
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown };
      throw new ApiError(500, typeof err.code === 'string' ? err.code : 'XX000', `Applying migrations failed: ${String(err.message ?? e)}`);
    }
  }

  private async openDatabase(name: string | null): Promise<Database> {
    const { dataDir, databaseUrl } = this.options;
    if (databaseUrl !== undefined) {
      if (name === null) return openPg(databaseUrl);
      const admin = openPg(databaseUrl);
      try {
        const current = await admin.query('SELECT current_database() AS db');
        const dbName = serverDatabaseName(String(current[0]?.['db']), name);
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
        if (exists.length === 0) {
          await admin.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`).catch((e: unknown) => {
            // created concurrently by someone else: 42P04, or 23505 when both CREATEs raced on pg_database's unique index
            const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
            if (code !== '42P04' && code !== '23505') throw e;
          });
        }
        const url = new URL(databaseUrl);
        url.pathname = `/${encodeURIComponent(dbName)}`;
        return openPg(url.toString());
      } finally {
        await admin.close();
      }
    }
    if (dataDir !== undefined) {
      return openPGlite({ dataDir: name === null ? join(dataDir, 'default') : join(dataDir, 'named', name) });
    }
    return openPGlite({ template: await this.inMemoryTemplate() });
  }

  /**
   * In-memory databases start from a snapshot of a fresh database with the migrations and the
   * seed applied: loading a snapshot is several times faster than initdb.
   */
  private inMemoryTemplate(): Promise<Blob> {
    if (this.template === null) {
      const p = (async () => {
        const db = await openPGlite({});
        try {
          await this.migrate(db);
          await applySeed(db, this.options.seedFile);
          return await db.dump();
        } finally {
          await db.close();
        }
      })();
      p.catch(() => {
        if (this.template === p) this.template = null;
      });
      this.template = p;
    }
    return this.template;
  }

  /** Starts building the in-memory template in the background so the first database opens sooner. */
  warmUp(): void {
    if (this.options.databaseUrl === undefined && this.options.dataDir === undefined) {
      this.inMemoryTemplate().catch((e: unknown) => this.options.log(`preparing the template database failed: ${String(e)}`));
    }
  }

  /**
   * Closes a named database and frees it (an in-memory one is gone; files or a server database
   * stay on disk). Later requests for the name answer 410, so nothing re-creates it by accident.
   */
  async drop(name: string): Promise<boolean> {
    if (!DATABASE_NAME.test(name)) throw new ApiError(400, 'DEV400', 'Database names must match /^[a-z0-9_-]{1,64}$/');
    this.dropped.add(name);
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    this.entries.delete(name);
    try {
      await (await entry).db.close();
    } catch {
      /* failed to open: nothing to free */
    }
    return true;
  }

  async closeAll(): Promise<void> {
    await this.template?.catch(() => undefined);
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (p) => {
        try {
          await (await p).db.close();
        } catch {
          /* already failed */
        }
      }),
    );
  }
}
