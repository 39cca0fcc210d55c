// Runs before each test file: D1 storage is isolated per file, so each file starts from the
// migrations. applyD1Migrations skips the ones already applied.
import { applyD1Migrations, env } from 'cloudflare:test';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
