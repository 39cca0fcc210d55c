import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { alertPayload, type AlertPayload } from '../../../src/integrity/alerts.ts';
import { deliverAlert } from '../../../src/stores/alert-webhook.ts';

interface Received {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** A local webhook receiver; `respond` decides each answer (or never answers). */
async function receiver(respond: (res: ServerResponse) => void): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method,
        path: req.url,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      respond(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // The path stands for a Slack webhook's token: it must never be logged.
  return { server, url: `http://127.0.0.1:${port}/services/T000/B000/SECRET-TOKEN`, received };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const payload: AlertPayload = alertPayload(
  {
    status: 'firing',
    key: 'emails:orphans',
    entity: 'emails',
    check: 'orphans',
    severity: 'warning',
    summary: '2 emails point to missing prospects',
    count: 2,
    details: { ids: ['detail-id-1', 'detail-id-2'] },
    since: '2026-11-29T10:00:00.000Z',
  },
  'https://sync.example.com/',
);

let servers: Server[] = [];
let log: MockInstance<typeof console.log>;

beforeEach(() => {
  servers = [];
  log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(async () => {
  log.mockRestore();
  await Promise.all(servers.map(close));
});

function logged(): string {
  return log.mock.calls.map((args) => args.map(String).join(' ')).join('\n');
}

function logLines(): Record<string, unknown>[] {
  return log.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);
}

describe('deliverAlert posts to the webhook', () => {
  it('delivers the exact payload as JSON with a POST', async () => {
    const r = await receiver((res) => res.writeHead(200).end('ok'));
    servers.push(r.server);
    await expect(deliverAlert(r.url, payload)).resolves.toEqual({ delivered: true, error: null });
    expect(r.received).toEqual([
      { method: 'POST', path: '/services/T000/B000/SECRET-TOKEN', contentType: 'application/json', body: payload },
    ]);
    expect(logLines()).toEqual([
      expect.objectContaining({
        event: 'alert',
        status: 'firing',
        entity: 'emails',
        problem: 'orphans',
        delivered: true,
        error: null,
      }),
    ]);
  });

  it('reports a non-2xx answer as not delivered', async () => {
    const r = await receiver((res) => res.writeHead(500).end('boom'));
    servers.push(r.server);
    await expect(deliverAlert(r.url, payload)).resolves.toEqual({ delivered: false, error: 'HTTP 500' });
    expect(r.received).toHaveLength(1);
    expect(logLines()).toEqual([expect.objectContaining({ delivered: false, error: 'HTTP 500' })]);
  });

  it('gives up on a receiver that never answers within the timeout', async () => {
    const r = await receiver(() => undefined);
    servers.push(r.server);
    const started = Date.now();
    const result = await deliverAlert(r.url, payload, { timeoutMs: 300 });
    expect(result).toEqual({ delivered: false, error: 'timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a closed port as not delivered, without throwing', async () => {
    const r = await receiver((res) => res.writeHead(200).end());
    await close(r.server);
    const result = await deliverAlert(r.url, payload, { timeoutMs: 2000 });
    expect(result.delivered).toBe(false);
    expect(result.error).toBe('ECONNREFUSED');
  });

  it('turns a throwing fetch into an error without the URL in it', async () => {
    const url = 'https://hooks.example.com/services/T000/B000/SECRET-TOKEN';
    const failing: typeof fetch = () => Promise.reject(new TypeError(`cannot reach ${url}`));
    const result = await deliverAlert(url, payload, { fetch: failing });
    expect(result).toEqual({ delivered: false, error: 'cannot reach [webhook]' });
  });
});

describe('deliverAlert without ALERT_WEBHOOK_URL', () => {
  it('makes no request and logs the alert only', async () => {
    const calls: unknown[] = [];
    const spyFetch: typeof fetch = (...args) => {
      calls.push(args);
      return Promise.resolve(new Response(null));
    };
    await expect(deliverAlert(undefined, payload, { fetch: spyFetch })).resolves.toEqual({ delivered: false, error: null });
    await expect(deliverAlert('', payload, { fetch: spyFetch })).resolves.toEqual({ delivered: false, error: null });
    expect(calls).toEqual([]);
    expect(logLines()).toEqual([
      expect.objectContaining({
        event: 'alert',
        status: 'firing',
        entity: 'emails',
        problem: 'orphans',
        summary: payload.summary,
        delivered: false,
        error: null,
      }),
      expect.objectContaining({ delivered: false, error: null }),
    ]);
  });
});

describe('deliverAlert keeps the secret out of the log', () => {
  it('never logs the URL, its token or the details, whatever the outcome', async () => {
    const ok = await receiver((res) => res.writeHead(200).end());
    const failing = await receiver((res) => res.writeHead(500).end());
    const silent = await receiver(() => undefined);
    servers.push(ok.server, failing.server, silent.server);
    const closed = await receiver(() => undefined);
    await close(closed.server);

    for (const url of [ok.url, failing.url, silent.url, closed.url]) {
      await deliverAlert(url, payload, { timeoutMs: 300 });
    }
    await deliverAlert('not a url SECRET-TOKEN', payload);

    expect(log).toHaveBeenCalledTimes(5);
    const text = logged();
    expect(text).not.toContain('SECRET-TOKEN');
    expect(text).not.toContain('/services/');
    expect(text).not.toContain('detail-id');
    for (const line of logLines()) expect(Object.keys(line)).not.toContain('details');
  });
});
