// The Worker as the workerd tests and benchmarks load it (test/workerd-plugin.ts: main): the
// production Worker, with the coordinator class that adds the test-only RPCs.
export { default } from '../../src/index.ts';
export { TestSyncCoordinator as SyncCoordinator } from './test-coordinator.ts';
