// ESLint for the whole repository, run from the root by `npm run lint`: typescript-eslint's recommended rules,
// the type-aware rules that catch lost promises (this code is async end to end: an un-awaited write is a change
// the journal never saw), and eslint-config-prettier last, so that no rule argues with Prettier about layout.
// templates/plugin has its own eslint.config.js (the one a generated plugin ships), used there instead of this.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TESTS = ['**/*.test.ts', '**/*.test.*.ts', '**/*.fixture.ts'];

export default defineConfig(
  { ignores: ['**/dist/', '**/dist-test/', 'packages/*/lib/', 'packages/*/lib.*/', '**/.cache/', '**/.turbo/', 'coverage/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node, parserOptions: { tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading _ marks a name unused on purpose (a callback's position, a key left out of a copy).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // A `let` that a closure reads before its one assignment (a timer, a server started later) must stay a
      // `let`: as a const, the early call would throw (and `eslint --fix` would make it so).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Type-aware, from each package's tsconfig.json (project references resolve to sources: no build needed).
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // These examples keep their tests out of tsconfig.json (dist ships without them).
        projectService: { allowDefaultProject: ['examples/plugin-crun/src/*.test.ts', 'examples/plugin-crio-config/src/*.test.ts'] },
      },
    },
    // The one type-aware rule: each costs seconds, and TypeScript itself already rejects a promise used as a
    // condition (what no-misused-promises would add).
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: TESTS,
    rules: {
      // chai's property assertions (`expect(x).to.be.empty`) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  {
    // Tests, e2e and the scripts match terminal escapes and control characters on purpose (the product's own
    // patterns keep an eslint-disable line each, saying so where it matters).
    files: [...TESTS, 'e2e/src/**', 'scripts/**'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Tests, fixtures and e2e's fakes handle other services' JSON (Kubernetes objects, ARM bodies) and deliberately
    // malformed input: `any` is the honest type there.
    files: [...TESTS, '**/*.test.helpers.ts', 'e2e/src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The SDK's injection types erase parameter types on purpose (a create(host: Host) is assignable to
    // create(...deps: any[]) only), and `{}` is the "nothing injected" default of an InjectMap parameter;
    // the schema walker reads an arbitrary JSON Schema.
    files: ['packages/sdk/src/step.ts', 'packages/sdk/src/plugin.ts', 'packages/core/src/config/schema-fields.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-empty-object-type': 'off' },
  },
  prettier,
);
