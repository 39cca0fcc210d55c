// Starts the local Supabase stand-in (dev/supabase-local) once for the workerd test run and
// hands its URL and service-role key to the tests. Each test uses its own named database
// (`${supabaseUrl}/db/<name>`), created lazily with supabase/migrations applied.
// It runs as a child process on Node itself: PGlite does not load inside vitest's module runner.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

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
  return () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
}
