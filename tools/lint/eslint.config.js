/**
 * `npm run lint` (from the repository root): ESLint's and typescript-eslint's recommended rules, syntax only (no
 * type-aware rules: `tsc` already checks types, and TypeScript 7 has no JavaScript API for them). Rules turned off
 * below are off for a stated reason; anything else in the recommended sets is an error.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', 'tools/**', 'models/**', 'data/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // Protocol and text code matches control characters, joiners and combining marks on purpose (UTF-8
      // checks, invisible-character normalisation, classifier features).
      'no-control-regex': 'off',
      'no-misleading-character-class': 'off',
      // Errors are rethrown with a message for the caller's protocol; the cause is logged where it matters.
      'preserve-caught-error': 'off',
      // `if (x) (a = 1), b.push(c);` — comma-sequenced effects in a one-line `if` — is house style in builders.
      '@typescript-eslint/no-unused-expressions': 'off',
      // `any` appears only at untyped boundaries (SDK payloads, JSON walked generically); tsc strict does the rest.
      '@typescript-eslint/no-explicit-any': 'off',
      // An initial value kept for readability before a loop that always assigns it is not a bug.
      'no-useless-assignment': 'off',
      // A leading underscore marks a deliberately unused binding (destructuring a field away, a required parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // Expected CLI output is written as it prints, indentation included.
    files: ['test/**/*.ts'],
    rules: { 'no-regex-spaces': 'off' },
  },
);
