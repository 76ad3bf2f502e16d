// ESLint for this plugin (`npm run lint`; `npm run format` fixes what it can, then Prettier lays it out):
// typescript-eslint's recommended rules, and no lost promises: a Host call a step does not await is a change
// that may not be done (or journaled) when flexnode moves on.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'dist-test/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } } },
  {
    files: ['**/*.ts'],
    // tsconfig.test.json covers src/ with its tests (tsconfig.json leaves them out of dist).
    languageOptions: { parserOptions: { project: './tsconfig.test.json' } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // chai's property assertions (`expect(x).to.be.empty`) are expressions by design.
  { files: ['**/*.test.ts'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
  prettier,
);
