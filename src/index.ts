import { DurableObject } from 'cloudflare:workers';

export class SyncCoordinator extends DurableObject<Env> {
  async ping(): Promise<string> { return 'pong'; }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/health') return Response.json({ ok: true });
    return Response.json({ error: { code: 'not_found', message: 'no route' } }, { status: 404 });
  },
} satisfies ExportedHandler<Env>;

interface Env { DB: D1Database; SYNC_COORDINATOR: DurableObjectNamespace<SyncCoordinator>; SUPABASE_URL: string }
