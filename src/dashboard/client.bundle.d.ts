// The type of the module dev/build-dashboard.ts generates (client.bundle.js, not committed):
// the dashboard client (src/dashboard/client/) as one browser script.

/** The client's bundled JavaScript, inlined into the page's <script>. */
export declare const DASHBOARD_SCRIPT: string;
