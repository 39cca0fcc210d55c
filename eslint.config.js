// ESLint (npm run lint): typescript-eslint's strict type-checked rules over the whole tree, the
// import directions that keep the layers honest, and a one-line JSDoc on every export of src/ and
// dev/supabase-local/. Formatting is Prettier's (npm run format), so no style rule lives here.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import comments from '@eslint-community/eslint-plugin-eslint-comments';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import jsdoc from 'eslint-plugin-jsdoc';
import tseslint from 'typescript-eslint';

/** @param {string} path @returns {string[]} the tsconfig's include list */
function tsconfigIncludes(path) {
  return JSON.parse(readFileSync(join(import.meta.dirname, path), 'utf8')).include;
}

/**
 * The pure modules of src/: the ones tsconfig.node.json typechecks in plain Node (no Workers
 * types, no bindings). Everything else in src/ does I/O or wires it.
 */
const pureEntries = tsconfigIncludes('tsconfig.node.json').filter((p) => p.startsWith('src/'));
/** @param {string} path @returns {boolean} whether tsconfig.node.json includes it, as a file or under a folder */
const isPure = (path) => pureEntries.some((entry) => (entry.endsWith('.ts') ? path === entry : path.startsWith(`${entry}/`)));
const pureModules = pureEntries.map((entry) => (entry.endsWith('.ts') ? entry : `${entry}/**/*.ts`));
const ioModules = readdirSync(join(import.meta.dirname, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((p) => p.endsWith('.ts'))
  .map((p) => `src/${p.replaceAll('\\', '/')}`)
  .filter((p) => !isPure(p));

/** A regex for an import specifier that ends in `path` (relative to src/), however many `../` lead to it. */
function endsIn(path) {
  return `(^|/)${path.replace(/^src\//, '').replaceAll('.', '\\.')}$`;
}

// Restriction groups, composed per folder below: a later config object replaces a rule's options
// rather than merging them, so each folder's entry lists every group that applies to it.
const nodeProtocol = {
  paths: builtinModules
    .filter((name) => !name.startsWith('_') && !name.startsWith('node:'))
    .map((name) => ({ name, message: `Import 'node:${name}': the node: prefix says it is Node's own module.` })),
};
const srcStaysInSrc = {
  patterns: [
    {
      regex: '^(\\.\\./)+(dev|test|bench)/',
      message: 'src/ is what ships: it never imports the local stack, tests or benchmarks.',
    },
  ],
};
const storesBelowPasses = {
  patterns: [
    {
      regex: '^\\.\\./(sync|objects|http|dashboard)/|^\\.\\./(router|index|cron)\\.ts$',
      message:
        'A store is the I/O layer under the passes: it imports entities, types, timestamps and lease; move what it needs out of sync/ into a module both can import.',
    },
    {
      // The integrity stores speak integrity's formats (digests, row versions, findings): its
      // types, and the pure digest format, but none of its logic.
      regex: '^\\.\\./integrity/(?!digest\\.ts$)',
      allowTypeImports: true,
      message: "A store takes integrity's types and digest format only, never its logic.",
    },
  ],
};
const pureStaysPure = {
  patterns: [
    {
      regex: ioModules.map(endsIn).join('|'),
      // The interfaces a pass is handed (SupabaseStore, PullPage) are types: no I/O comes with them.
      allowTypeImports: true,
      message: 'A pure module (listed in tsconfig.node.json) imports only other pure modules, and the types of the rest.',
    },
    {
      regex: '^(cloudflare:|node:|@supabase/|itty-router$)',
      message: 'A pure module does no I/O: the caller passes the result in.',
    },
  ],
};
const standInLayers = {
  patterns: [
    {
      regex: '^\\./(rest|server|dev-endpoints|cli)\\.ts$',
      message: "The stand-in's parse and build layers sit under rest.ts and server.ts, never above.",
    },
    {
      regex: '^\\./(databases|migrations)\\.ts$',
      allowTypeImports: true,
      message: "The stand-in's parse and build layers only build SQL; databases.ts runs it.",
    },
    {
      regex: '^(node:|pg$|@electric-sql/)',
      message: "The stand-in's parse and build layers are pure: no I/O.",
    },
  ],
};
const devNotTest = {
  patterns: [{ regex: '^(\\.\\./)+(test|bench)/', message: 'The local stack does not depend on tests or benchmarks.' }],
};

/** The no-restricted-imports options for a folder: the union of the groups that apply to it. */
function restrict(...groups) {
  return [
    'error',
    {
      paths: groups.flatMap((g) => g.paths ?? []),
      patterns: groups.flatMap((g) => g.patterns ?? []),
    },
  ];
}

const rule = '@typescript-eslint/no-restricted-imports';

export default defineConfig(
  globalIgnores(['.wrangler/', '.local/', 'test-results/']),
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Two programs: tsconfig.json (workerd: src, test/worker, bench/worker) and
        // tsconfig.node.json (Node: dev, bench, test/node, configs, the pure src modules). A file
        // in both is linted with the first. projectService cannot serve this split: it finds
        // only files named tsconfig.json, and a project reference would need composite + emit.
        project: ['./tsconfig.json', './tsconfig.node.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@eslint-community/eslint-comments': comments },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Numbers and booleans read fine in a message; objects, nullish and any still need a String().
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `process.env['X']` and `row['column']`: brackets say the key is data, not a declared field.
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      // `() => resolve()` is the idiom for a callback; a `return voidCall()` in a block still counts.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // It asks for `x!` where `x as T` narrows; no-non-null-assertion forbids `x!` (STYLE.md).
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
      // `while (true)` with a break inside is a loop, not a mistake.
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: 'only-allowed-literals' }],
      // `env.X || fallback` on a string means "empty is unset" on purpose (vars, secrets, env).
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      // Unused arguments named `_x` are kept for the signature's sake.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      [rule]: restrict(nodeProtocol),
      // No file-level or block disables: a rule is switched off for one line, with the reason
      // after `--`, or changed here for everyone.
      '@eslint-community/eslint-comments/no-use': ['error', { allow: ['eslint-disable-next-line', 'eslint-disable-line'] }],
      '@eslint-community/eslint-comments/require-description': 'error',
      '@eslint-community/eslint-comments/no-unlimited-disable': 'error',
    },
  },
  { files: ['src/**/*.ts'], rules: { [rule]: restrict(nodeProtocol, srcStaysInSrc) } },
  { files: ['src/stores/**/*.ts'], rules: { [rule]: restrict(nodeProtocol, srcStaysInSrc, storesBelowPasses) } },
  { files: pureModules, rules: { [rule]: restrict(nodeProtocol, srcStaysInSrc, pureStaysPure) } },
  {
    files: ['src/stores/json-chunks.ts'],
    rules: { [rule]: restrict(nodeProtocol, srcStaysInSrc, storesBelowPasses, pureStaysPure) },
  },
  { files: ['dev/**/*.ts'], rules: { [rule]: restrict(nodeProtocol, devNotTest) } },
  {
    files: ['query-parse', 'select-parse', 'sql-build', 'select-build', 'sql-split', 'request-headers', 'errors'].map(
      (name) => `dev/supabase-local/${name}.ts`,
    ),
    rules: { [rule]: restrict(nodeProtocol, devNotTest, standInLayers) },
  },
  {
    // A one-line JSDoc on every export: the shipped code and the stand-in others build on.
    files: ['src/**/*.ts', 'dev/supabase-local/**/*.ts'],
    plugins: { jsdoc },
    rules: {
      'jsdoc/require-jsdoc': [
        'error',
        {
          publicOnly: { esm: true, cjs: false },
          require: { FunctionDeclaration: true, ClassDeclaration: true },
          contexts: ['TSInterfaceDeclaration', 'TSTypeAliasDeclaration', 'TSEnumDeclaration', 'VariableDeclaration'],
        },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringContaining, …) are typed `any`, and a
    // test puts them inside the objects it compares.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
