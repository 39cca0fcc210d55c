/** The operator dashboard: one self-contained HTML page (no external assets). */

/** The page's HTML. */
export function renderDashboard(): string {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sync dashboard</title></head><body><main><h1>Sync dashboard</h1><p>Coming soon.</p></main></body></html>';
}
