// Resource embedding: which foreign key joins a table to the resource named in `select=rel(...)`,
// as PostgREST v12 resolves it (docs "Resource Embedding", errors PGRST200 / PGRST201).
// Pure: works on the catalog only.

import type { Catalog, ForeignKey, TableInfo } from './catalog.ts';
import { ApiError } from './errors.ts';

/** How the parent relates to the embedded resource. */
export type Cardinality = 'many-to-one' | 'one-to-many' | 'one-to-one';

/** A resolved relationship: `pairs` are (parent column, embedded column) joined with `=`. */
export interface Relationship {
  constraint: string;
  cardinality: Cardinality;
  parent: string;
  target: TableInfo;
  pairs: [string, string][];
  /** To-one relationships embed an object (or null), to-many an array. */
  toOne: boolean;
  /** Whether the foreign key is on the parent (many-to-one side). */
  fkOnParent: boolean;
}

function isUnique(table: TableInfo | undefined, columns: readonly string[]): boolean {
  if (table === undefined) return false;
  const wanted = [...columns].sort().join('\u0000');
  return table.uniques.some((u) => [...u].sort().join('\u0000') === wanted);
}

function candidates(catalog: Catalog, parent: string, fks: readonly ForeignKey[], targetName: string): Relationship[] {
  const out: Relationship[] = [];
  const parentTable = catalog.tables.get(parent);
  for (const fk of fks) {
    const target = catalog.tables.get(fk.table === parent ? fk.refTable : fk.table);
    if (target === undefined) continue;
    // parent holds the foreign key: many-to-one (one-to-one when its columns are unique)
    if (
      fk.table === parent &&
      (fk.refTable === targetName ||
        (!catalog.tables.has(targetName) && (fk.name === targetName || (fk.columns.length === 1 && fk.columns[0] === targetName))))
    ) {
      const refTarget = catalog.tables.get(fk.refTable);
      if (refTarget !== undefined) {
        const oneToOne = isUnique(parentTable, fk.columns);
        out.push({
          constraint: fk.name,
          cardinality: oneToOne ? 'one-to-one' : 'many-to-one',
          parent,
          target: refTarget,
          pairs: fk.columns.map((c, i) => [c, fk.refColumns[i] ?? '']),
          toOne: true,
          fkOnParent: true,
        });
      }
    }
    // the embedded table holds the foreign key: one-to-many (one-to-one when its columns are unique)
    if (fk.refTable === parent && fk.table === targetName) {
      const oneToOne = isUnique(target, fk.columns);
      out.push({
        constraint: fk.name,
        cardinality: oneToOne ? 'one-to-one' : 'one-to-many',
        parent,
        target,
        pairs: fk.refColumns.map((c, i) => [c, fk.columns[i] ?? '']),
        toOne: oneToOne,
        fkOnParent: false,
      });
    }
  }
  return out;
}

function matchesHint(rel: Relationship, hint: string): boolean {
  if (rel.constraint === hint) return true;
  return rel.pairs.length === 1 && (rel.pairs[0]?.[0] === hint || rel.pairs[0]?.[1] === hint);
}

function describe(rel: Relationship): { cardinality: Cardinality; embedding: string; relationship: string } {
  const parentCols = rel.pairs.map(([p]) => p).join(', ');
  const targetCols = rel.pairs.map(([, t]) => t).join(', ');
  // PostgREST names the foreign-key side first: "fk using items(owner_id) and owners(id)".
  const [fromTable, fromCols, toTable, toCols] = rel.fkOnParent
    ? [rel.parent, parentCols, rel.target.name, targetCols]
    : [rel.target.name, targetCols, rel.parent, parentCols];
  return {
    cardinality: rel.cardinality,
    embedding: `${rel.parent} with ${rel.target.name}`,
    relationship: `${rel.constraint} using ${fromTable}(${fromCols}) and ${toTable}(${toCols})`,
  };
}

/**
 * Finds the one relationship between `parent` and the embedded `target` (a table name, or for
 * many-to-one a foreign-key name or column), narrowed by `hint` (a foreign-key name or one of its
 * columns). Throws PGRST200 (400) when none matches and PGRST201 (300) when several do.
 */
export function findRelationship(catalog: Catalog, parent: string, target: string, hint: string | null): Relationship {
  const all = candidates(catalog, parent, catalog.foreignKeys, target);
  const found = hint === null ? all : all.filter((r) => matchesHint(r, hint));
  const only = found[0];
  if (found.length === 1 && only !== undefined) return only;
  if (found.length === 0) {
    throw new ApiError(
      400,
      'PGRST200',
      `Could not find a relationship between '${parent}' and '${target}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent}' and '${target}'${hint === null ? '' : ` using the hint '${hint}'`} in the schema 'public', but no matches were found.`,
      null,
    );
  }
  const hints = found.map((r) => `'${r.target.name}!${r.constraint}'`).join(', ');
  throw new ApiError(
    300,
    'PGRST201',
    `Could not embed because more than one relationship was found for '${parent}' and '${target}'`,
    found.map(describe),
    `Try changing '${target}' to one of the following: ${hints}. Find the desired relationship in the 'details' key.`,
  );
}
