/** zod at the edge: request bodies, params and queries, with the issues in a 400's details. */
import { z } from 'zod';
import { findEntity, type EntityDefinition } from '../entities.ts';
import { HttpError } from './errors.ts';

/** The entity named in a path, or 404. */
export function entityParam(name: string | undefined): EntityDefinition {
  const entity = name === undefined ? undefined : findEntity(name);
  if (!entity) throw new HttpError(404, 'unknown_entity', `unknown entity: ${JSON.stringify(name ?? '')}`);
  return entity;
}

/** Parses a JSON body (an empty body counts as {}) with a schema, or throws 400 with the issues. */
export async function parseBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const text = await request.text();
  let json: unknown = {};
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
    }
  }
  return parseWith(schema, json, 'invalid_body');
}

/** Validates a value, or throws 400 with zod's issues in details. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, code = 'invalid_request'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw new HttpError(400, code, 'the request does not match the expected shape', details);
  }
  return parsed.data;
}

/** POST /objects/:entity/reset: to the beginning (no body, or cursor null) or after a given cursor. */
export const ResetBodySchema = z
  .object({
    cursor: z
      .object({ updated_at: z.string().min(1).max(64), id: z.string().min(1).max(128) })
      .strict()
      .nullable()
      .optional(),
    scope: z.enum(['all', 'pull', 'push']).optional(),
  })
  .strict();

/** ?limit= for history listings. */
export const LimitQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

/** Bodies of POST routes that take none: nothing, or {}. */
export const EmptyBodySchema = z.object({}).strict();

/** ?limit=&entity= for the sync_log listing. */
export const SyncLogQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  entity: z.string().min(1).max(64).optional(),
});
