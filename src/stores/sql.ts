/** Identifier quoting for SQL built from the entity registry (never from requests). */

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Double-quotes a registry identifier; throws for anything that is not a plain name. */
export function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}
