/** zod at the edge: request bodies, params and queries, with the issues in a 400's details. */
import { z } from 'zod';
import { DASHBOARD } from '../dashboard/settings.ts';
import { findEntity, type EntityDefinition } from '../entities.ts';
import { checkResetCursor } from './cursor-param.ts';
import { HttpError } from './errors.ts';
import { LIST_LIMIT_MAX, type Cursor, type ResetScope } from '../types.ts';

/** The entity named in a path, or 404. */
export function entityParam(name: string | undefined): EntityDefinition {
  const entity = name === undefined ? undefined : findEntity(name);
  if (!entity) throw new HttpError(404, 'unknown_entity', `unknown entity: ${JSON.stringify(name ?? '')}`);
  return entity;
}

const utf8 = new TextDecoder();

/**
 * Reads a JSON body (an empty body counts as {}), or throws 400 invalid_json. The bytes are
 * decoded as UTF-8 whatever the content-type says (as request.text() would, without workerd's
 * "does not appear to be text" warning for odd types); invalid sequences become U+FFFD.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = utf8.decode(await request.arrayBuffer());
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
}

/** Parses a JSON body (an empty body counts as {}) with a schema, or throws 400 with the issues. */
export async function parseBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  return parseWith(schema, await readJsonBody(request), 'invalid_body');
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

/**
 * POST /objects/:entity/reset: to the beginning (no body, or cursor null) or after a given
 * cursor, as `{ts, id}` (the shape status returns) or `{updated_at, id}`; exactly one of the two.
 * scope: `all` (default) resets the pull and re-queues the push, `pull` the first, `requeue` the second.
 */
export const ResetBodySchema = z
  .object({
    cursor: z
      .object({
        ts: z.string().min(1).max(64).optional(),
        updated_at: z.string().min(1).max(64).optional(),
        id: z.string().min(1).max(128),
      })
      .strict()
      .superRefine((c, ctx) => {
        if (c.ts !== undefined && c.updated_at !== undefined) {
          ctx.addIssue({ code: 'custom', path: [], message: 'give the timestamp as either "ts" or "updated_at", not both' });
        } else if (c.ts === undefined && c.updated_at === undefined) {
          ctx.addIssue({ code: 'custom', path: ['ts'], message: 'missing: the cursor needs "ts" (or "updated_at") and "id"' });
        }
      })
      .nullable()
      .optional(),
    // `push` was this scope's first name; it re-queues rows and moves no cursor, hence `requeue`.
    scope: z
      .enum(['all', 'pull', 'requeue', 'push'])
      .transform((s) => (s === 'push' ? 'requeue' : s))
      .optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.scope === 'requeue' && b.cursor) {
      ctx.addIssue({
        code: 'custom',
        path: ['cursor'],
        message: 'scope "requeue" re-sends rows and moves no cursor: leave the cursor out, or use scope "all" or "pull"',
      });
    }
  });

/** A reset request, validated for `entity`. */
export interface ResetRequest {
  cursor: Cursor | null;
  scope?: ResetScope;
}

/**
 * Validates a reset body for `entity`: 400 invalid_body when it does not have the shape,
 * 400 invalid_cursor when the cursor is not a position the entity can be read from.
 */
export function parseResetBody(json: unknown, entity: EntityDefinition): ResetRequest {
  const body = parseWith(ResetBodySchema, json, 'invalid_body');
  const scope = body.scope === undefined ? {} : { scope: body.scope };
  if (!body.cursor) return { cursor: null, ...scope };
  const checked = checkResetCursor(body.cursor, entity);
  if (!checked.ok) throw new HttpError(400, 'invalid_cursor', 'the cursor is not a position this entity can be read from', checked.issues);
  return { cursor: checked.cursor, ...scope };
}

/** ?limit= for history listings. */
export const LimitQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).default(100) });

/** Bodies of POST routes that take none: nothing, or {}. */
export const EmptyBodySchema = z.object({}).strict();

/** ?limit=&entity=&idle= for the run log listing; idle runs are listed unless idle=exclude. */
export const SyncLogQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  entity: z.string().min(1).max(64).optional(),
  idle: z.enum(['include', 'exclude']).default('include'),
});

/** A list of entity names (each must exist; duplicates are folded), or absent for all. */
const EntityListSchema = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(32)
  .superRefine((names, ctx) => {
    names.forEach((name, i) => {
      if (!findEntity(name)) ctx.addIssue({ code: 'custom', path: [i], message: `unknown entity: ${JSON.stringify(name)}` });
    });
  })
  .transform((names) => [...new Set(names)]);

/** POST /api/integrity/run: the checks, with their fixes when `fix`; every row compared unless `reconcile` is false. */
export const IntegrityRunBodySchema = z
  .object({
    fix: z.boolean().default(false),
    reconcile: z.boolean().default(true),
    entities: EntityListSchema.optional(),
  })
  .strict();

/** POST /admin/resync: every entity, or the ones named. */
export const ResyncBodySchema = z.object({ entities: EntityListSchema.optional() }).strict();

/** GET /api/integrity: how many past runs to list, for one entity or all. */
export const IntegrityQuerySchema = z.object({
  history: z.coerce.number().int().min(1).max(200).default(20),
  entity: z.string().min(1).max(64).optional(),
});

/** POST /objects/:entity/held/{release,delete}: the held rows to act on. */
export const HeldIdsBodySchema = z.object({ ids: z.array(z.string().min(1).max(128)).min(1).max(1000) }).strict();

/** GET /api/dashboard: how many runs (of one entity, or all), with or without idle ones, and how many integrity runs. */
export const DashboardQuerySchema = z
  .object({
    runs: z.coerce.number().int().min(1).max(200).default(DASHBOARD.runsShown),
    entity: z.string().min(1).max(64).optional(),
    idle: z.enum(['include', 'exclude']).default('exclude'),
    history: z.coerce.number().int().min(1).max(200).default(DASHBOARD.integrityHistory),
  })
  .strict();

/** A valid GET /api/dashboard query. */
export type DashboardQuery = z.infer<typeof DashboardQuerySchema>;
