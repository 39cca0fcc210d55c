/**
 * The coordinator as the workerd tests and benchmarks run it: the production class plus two
 * test-only RPCs, so production carries neither. test/worker/entry.ts exports it under the
 * production class's name, which wrangler.toml binds.
 */
import { SettingsOverridesSchema, type SettingsOverrides } from '../../src/objects/settings.ts';
import { SyncCoordinator } from '../../src/objects/sync-coordinator.ts';
import type { CoordinatorSettings } from '../../src/types.ts';

/** SyncCoordinator with settings overrides and a per-test database on the stand-in. */
export class TestSyncCoordinator extends SyncCoordinator {
  /** Stores setting overrides (validated); returns the effective settings. */
  configure(entity: string, overrides: SettingsOverrides): CoordinatorSettings {
    const def = this.bind(entity);
    const parsed = SettingsOverridesSchema.parse(overrides);
    this.store.set('settings', { ...this.store.get('settings'), ...parsed });
    return this.settings(def);
  }

  /**
   * Points this coordinator at another database path on the same Supabase origin (the
   * stand-in's per-database URLs); the service key never leaves that origin.
   */
  useSupabaseUrl(entity: string, url: string): void {
    this.bind(entity);
    if (new URL(url).origin !== new URL(this.env.SUPABASE_URL).origin) {
      throw new Error('the Supabase URL override must keep the configured origin');
    }
    this.store.set('supabase_url', url);
  }
}
