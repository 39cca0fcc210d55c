// Starts the local Supabase stand-in (dev/supabase-local) once for the workerd test run and
// hands its URL and service-role key to the tests. Each test uses its own named database
// (`${supabaseUrl}/db/<name>`), created lazily with supabase/migrations applied.
// It runs as a child process on Node itself: PGlite does not load inside vitest's module runner.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildDashboardClient } from '../../dev/build-dashboard.ts';

const SERVICE_ROLE_KEY = 'test-service-role-key';

export default async function setup(project: TestProject) {
  const child = spawn(process.execPath, [resolve('dev/supabase-local/cli.ts'), '--port', '0', '--quiet'], {
    env: { ...process.env, SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`the stand-in did not start in 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /API URL:\s+(http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        ok(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the stand-in exited with ${code}:\n${out}`));
    });
  });
  child.stdout.resume();
  project.provide('supabaseUrl', url);
  project.provide('supabaseServiceRoleKey', SERVICE_ROLE_KEY);
  const receiver = await startAlertReceiver();
  project.provide('alertWebhookUrl', `${receiver.url}/hook`);
  project.provide('alertReceiverUrl', receiver.url);
  // A fresh build of the dashboard client, for the test that the page serves exactly that.
  project.provide('dashboardScript', await buildDashboardClient());
  return async () => {
    await receiver.close();
    await new Promise<void>((done) => {
      if (child.exitCode !== null) {
        done();
        return;
      }
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  };
}

/**
 * A stand-in for a Slack-style incoming webhook (ALERT_WEBHOOK_URL in the tests): POST /hook
 * records the JSON body; GET /received lists what arrived (oldest first); DELETE /received forgets.
 */
async function startAlertReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const received: unknown[] = [];
  const body = async (req: IncomingMessage): Promise<string> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return text;
  };
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'POST' && req.url === '/hook') {
        received.push(JSON.parse(await body(req)) as unknown);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (req.method === 'GET' && req.url === '/received') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
      } else if (req.method === 'DELETE' && req.url === '/received') {
        received.length = 0;
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
