// The type of the module dev/build-dashboard.ts generates (client.bundle.js, not committed):
// the dashboard client (src/dashboard/client/) as one browser script.

/** The client's bundled JavaScript, inlined into the page's <script>. */
export declare const DASHBOARD_SCRIPT: string;

/** `sha256-<base64>` of DASHBOARD_SCRIPT: the page's CSP allows this script and no other. */
export declare const DASHBOARD_SCRIPT_HASH: string;
