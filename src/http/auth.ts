/** Bearer-token auth for admin routes, compared in constant time whatever the lengths. */
import type { Env } from '../env.ts';
import { HttpError } from './errors.ts';

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(value));
}

/**
 * Throws 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are
 * hashed first, so the comparison takes the same time for any length of the presented token.
 */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const expected = env.ADMIN_TOKEN;
  if (!expected) throw new HttpError(503, 'auth_not_configured', 'ADMIN_TOKEN is not set; set it with `wrangler secret put ADMIN_TOKEN`');
  const header = request.headers.get('authorization') ?? '';
  const match = /^Bearer (.+)$/i.exec(header.trim());
  const presented = match?.[1] ?? '';
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  const equal = crypto.subtle.timingSafeEqual(a, b);
  if (!match || !equal) throw new HttpError(401, 'unauthorized', 'missing or invalid bearer token');
}
