// Fixtures shared by the node tests, the workerd tests and the benchmarks (both tsconfigs
// include test/shared): registry look-ups that fail loudly and the rows the Worker writes.
import { ENTITIES, type EntityDefinition } from '../../src/entities.ts';

/** The registry's entry for `name`; throws for a name the registry does not have. */
export function entity(name: string): EntityDefinition {
  const definition = ENTITIES[name];
  if (definition === undefined) throw new Error(`no entity ${name} in the registry`);
  return definition;
}

/**
 * An email as the Worker writes it to D1 (outbound, sent; no prospect or campaign), the i-th of a
 * batch: every field that must be unique is unique per `i`. `over` replaces or adds columns.
 */
export function email(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    prospect_id: null,
    campaign_id: null,
    subject: `Quick question about Hotel ${i}`,
    body: `Hello Contact ${i},\n\nI noticed Hotel ${i} …\n\nBest regards`,
    to_email: `contact${i}@hotel${i}.example`,
    from_email: 'sales@example.com',
    message_id: `<m${i}@example.com>`,
    direction: 'outbound',
    status: 'sent',
    sent_at: '2026-11-29T06:00:00.000000Z',
    ...over,
  };
}
