// The API gateway's URL limit in front of PostgREST: a request target (path + query) longer than
// the limit answers 414 with the gateway's HTML body (not PostgREST's JSON error shape), before
// auth or routing. Default 8 KiB (nginx's `large_client_header_buffers 4 8k`, which Kong
// inherits); configurable with the `maxUrlBytes` option, `--max-url-bytes` or
// SUPABASE_MAX_URL_BYTES. Not a PostgREST feature: PostgREST itself has no URL limit (docs
// v12 "Tables and Views" > "Filters" suggest POST /rpc for long filters for this reason).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_URL_BYTES, parseMaxUrlBytes, URI_TOO_LONG_BODY, type LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_limits';
/** The second stand-in's database (in Postgres-server mode both share one server). */
const SMALL_DB = 'rest_limits_small';
let server: LocalSupabase;
let small: LocalSupabase;

beforeAll(async () => {
  [server, small] = await Promise.all([startFixtureServer(), startFixtureServer({ maxUrlBytes: 200 })]);
  await Promise.all([sql(server, DB, 'select 1'), sql(small, SMALL_DB, 'select 1')]); // databases made in the hook, not a test
});

afterAll(async () => {
  await Promise.all([server.close(), small.close()]);
});

/** A GET whose request target (path + query) is exactly `bytes` long. */
function targetOf(bytes: number, db = DB): string {
  const prefix = `/db/${db}/rest/v1/sl_items?select=id&name=eq.`;
  return prefix + 'x'.repeat(bytes - prefix.length);
}

describe('gateway URL limit (414)', () => {
  it('accepts a URL of exactly the limit and refuses one byte more with the gateway body', async () => {
    const key = { apikey: server.serviceRoleKey };
    const atLimit = await fetch(server.url + targetOf(DEFAULT_MAX_URL_BYTES), { headers: key });
    expect([atLimit.status, await atLimit.json()]).toEqual([200, []]);
    const over = await fetch(server.url + targetOf(DEFAULT_MAX_URL_BYTES + 1), { headers: key });
    expect(over.status).toBe(414);
    expect(over.headers.get('content-type')).toBe('text/html');
    expect(await over.text()).toBe(URI_TOO_LONG_BODY);
  });

  it('comes before auth, applies to every method, and supabase-js reports it as a non-PostgREST error', async () => {
    const noKey = await fetch(server.url + targetOf(9000));
    expect(noKey.status).toBe(414);
    const del = await fetch(server.url + targetOf(9000), { method: 'DELETE', headers: { apikey: server.serviceRoleKey } });
    expect(del.status).toBe(414);
    const ids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const res = await client(server, DB).from('sl_items').select('id').in('code', ids);
    expect(res.status).toBe(414);
    expect(res.data).toBeNull();
    expect(res.error?.message).toContain('414 Request-URI Too Large');
  });

  it('is configurable: a server started with maxUrlBytes 200 refuses 201 bytes', async () => {
    const key = { apikey: small.serviceRoleKey };
    expect((await fetch(small.url + targetOf(200, SMALL_DB), { headers: key })).status).toBe(200);
    expect((await fetch(small.url + targetOf(201, SMALL_DB), { headers: key })).status).toBe(414);
  });

  it('parses the CLI/env value: default 8192, 0 turns it off, junk is refused', () => {
    expect(parseMaxUrlBytes(undefined)).toBe(8192);
    expect(parseMaxUrlBytes('')).toBe(8192);
    expect(parseMaxUrlBytes('0')).toBe(0);
    expect(parseMaxUrlBytes('16384')).toBe(16384);
    expect(() => parseMaxUrlBytes('8k')).toThrow(/non-negative integer/);
    expect(() => parseMaxUrlBytes('-1')).toThrow(/non-negative integer/);
  });
});
