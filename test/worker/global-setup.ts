// Starts the local Supabase stand-in (dev/supabase-local) once for the workerd test run and
// hands its URL and service-role key to the tests. Each test file should use its own named
// database (`${supabaseUrl}/db/<name>`), created lazily with supabase/migrations applied.
import type { TestProject } from 'vitest/node';
import { startLocalSupabase } from '../../dev/supabase-local/server.ts';

export default async function setup(project: TestProject) {
  const supabase = await startLocalSupabase({ port: 0, migrationsDir: 'supabase/migrations', quiet: true });
  project.provide('supabaseUrl', supabase.url);
  project.provide('supabaseServiceRoleKey', supabase.serviceRoleKey);
  return () => supabase.close();
}
