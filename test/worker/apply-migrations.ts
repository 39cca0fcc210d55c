// Runs before each test file: D1 storage is isolated per file, so each file starts from the
// migrations (applyD1Migrations skips the ones already applied); and after each test, the
// stand-in databases it created are dropped to keep memory bounded.
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach } from 'vitest';
import { dropTestDatabases } from './helpers.ts';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

afterEach(dropTestDatabases);
