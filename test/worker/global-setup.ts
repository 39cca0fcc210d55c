import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';

export default async function setup(project: TestProject) {
  const server = createServer((_req, res) => { res.end('{"ok":true}'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  project.provide('supabaseUrl', `http://127.0.0.1:${port}`);
  project.provide('supabaseServiceRoleKey', 'k');
  return () => new Promise<void>((r) => server.close(() => r()));
}
