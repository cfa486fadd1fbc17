// ESLint flat config: `pnpm lint` runs `tsc -b` (types) and then this (code rules).
// Type checking is tsc's job, so these rules are the syntax-level ones and run fast.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Node's own globals, read from the running Node, for the plain .js/.mjs scripts
// (TypeScript files get them from @types/node through tsc).
const nodeGlobals = Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']));

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist-types/**', '**/dist/**', '.data/**', 'bench/results/**', '.tap/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `_`-prefixed names mark parameters a signature needs but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Library code logs through the pino Logger it is given, never the console.
    files: ['packages/*/src/**/*.ts', 'cluster/src/**/*.ts'],
    ignores: ['**/bin/**', 'packages/node/src/main.ts', 'cluster/src/launch.ts'],
    rules: { 'no-console': 'error' },
  },
);
