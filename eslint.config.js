// Lint: type-aware rules for the whole tree, and a fence around src/core, which must stay pure
// (no clock, randomness, timers, I/O, console or process). A rare, justified exception carries a
// visible `determinism-ok` comment and an eslint-disable for the rule it needs.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const impure = 'src/core is pure: time arrives on events, ids come from state, effects leave as commands';

export default defineConfig(
  { ignores: ['node_modules/**', '.vigil/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test's describe/it return promises the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
      }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': ['error',
        { name: 'Date', message: impure }, { name: 'performance', message: impure },
        { name: 'setTimeout', message: impure }, { name: 'setInterval', message: impure },
        { name: 'setImmediate', message: impure }, { name: 'queueMicrotask', message: impure },
        { name: 'process', message: impure }, { name: 'fetch', message: impure }, { name: 'crypto', message: impure }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: impure }],
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'crypto', 'os', 'worker_threads'], message: impure },
        { group: ['ccxt', 'ws', 'pino'], message: impure },
        { group: ['../../shell/*', '../shell/*', '**/shell/**', '**/venues/**', '**/sim/**', '**/cli/**'], message: 'src/core depends on nothing outside it' },
      ] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests probe values through optional chains on purpose: a wrong shape should fail the assertion.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
);
