/**
 * The operator page's numbers, in one place: the markup's copy (page.ts), the client
 * (client/) and the defaults of GET /api/dashboard all read them from here.
 */
export const DASHBOARD = {
  /** Seconds between two refreshes of the page (and between retries after a failed one). */
  refreshSeconds: 5,
  /** Runs listed in "Recent runs". */
  runsShown: 30,
  /** Runs per entity drawn in its chart. */
  chartRuns: 30,
  /** Conflicts read per entity (merged newest first). */
  conflictsPerEntity: 20,
  /** Quarantined rows read per entity (merged, most recently seen first). */
  quarantinePerEntity: 50,
  /** Integrity runs listed in "Recent checks". */
  integrityHistory: 20,
} as const;
