// Splits an SQL script into statements on top-level semicolons, respecting quotes
// ('…', "…", E'…'), dollar quotes ($$…$$, $tag$…$tag$) and comments (--, nested /* */).

/** Splits a script into its statements (empty ones dropped). */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i];
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const nl = script.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (script[i] === '/' && script[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (script[i] === '*' && script[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(script[i - 1] ?? '') && !/[\w$]/.test(script[i - 2] ?? '');
      i++;
      while (i < n) {
        if (escapes && script[i] === '\\') {
          i += 2;
          continue;
        }
        if (script[i] === "'") {
          if (script[i + 1] === "'") {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '"') {
      i++;
      while (i < n) {
        if (script[i] === '"') {
          if (script[i + 1] === '"') {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '$' && !/[\w$]/.test(script[i - 1] ?? '')) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i));
      if (m === null) {
        i++;
        continue;
      }
      const tag = m[0];
      const end = script.indexOf(tag, i + tag.length);
      i = end < 0 ? n : end + tag.length;
    } else if (c === ';') {
      out.push(script.slice(start, i));
      i++;
      start = i;
    } else {
      i++;
    }
  }
  out.push(script.slice(start));
  return out.filter((s) => stripComments(s).trim() !== '').map((s) => s.trim());
}

/** Removes leading/trailing comments and whitespace for emptiness and keyword checks. */
export function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*(\n|$)/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

/** The first keyword of a statement, lower-cased (e.g. "select", "insert", "with"). */
export function firstKeyword(sql: string): string {
  const m = /^[\s(]*([A-Za-z]+)/.exec(stripComments(sql));
  return (m?.[1] ?? '').toLowerCase();
}
