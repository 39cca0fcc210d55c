// Types for the workerd test project: the Worker's Env on `env`, and its main module's exports on
// `exports`, both from cloudflare:workers.
import type { Env as WorkerEnv } from '../../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import('../../src/index.ts');
      durableNamespaces: 'SyncCoordinator';
    }
  }
}
