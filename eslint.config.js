// One lint config for the repo: typescript-eslint's recommended rules, type-aware where it pays.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'test-output/', 'bench/**/out/', 'coverage/', 'test/scenarios/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Inject a clock or scheduler; rules and the engine never read the wall clock.' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['**/*.test.ts', 'bench/**', 'sim/**', 'bin/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The gateway runs compiled from dist/ (npm run build): a path made from the module's own
    // location points into dist/, where only code is. Files that are not code come from fromRoot().
    files: ['{gateway,connectors,rules,config,sim}/**/*.ts'],
    ignores: ['**/*.test.ts', '**/fixtures/**', 'gateway/package-root.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.type='MetaProperty'][property.name=/^(url|dirname|filename)$/]",
          message: 'bin/andon.js runs dist/, which holds only code: find a file that is not code with fromRoot() (gateway/package-root.ts).',
        },
      ],
    },
  },
  {
    // The alarm board runs in the browser (vanilla ES modules, no build step).
    files: ['gateway/board/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'localStorage', 'fetch', 'EventSource', 'URLSearchParams', 'Intl', 'Node', 'setTimeout', 'clearTimeout', 'setInterval'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
