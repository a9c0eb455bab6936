// One lint config for the repo: typescript-eslint's recommended rules, type-aware (the type checker's view of
// every TypeScript file: floating promises, unsafe `any`, misused promises...).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Where the wall clock is banned: rules and the ticket engine take time from an injected scheduler or clock. */
const CLOCKLESS = ['rules/**/*.ts', 'gateway/tickets/**/*.ts', 'gateway/schedules/**/*.ts', 'model/**/*.ts'];
const NO_WALL_CLOCK = [
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() reads the wall clock: inject a clock or scheduler.' },
  { selector: "MemberExpression[object.name='performance'][property.name='now']", message: 'performance.now() reads a clock: inject a clock or scheduler.' },
];
/** bin/andon.js runs dist/, which holds only code: a path made from the module's own location points there. */
const NO_OWN_PATHS = [
  {
    selector: "MemberExpression[object.type='MetaProperty'][property.name=/^(url|dirname|filename)$/]",
    message: 'bin/andon.js runs dist/, which holds only code: find a file that is not code with fromRoot() (gateway/package-root.ts).',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'test-output/', 'bench/**/out/', 'coverage/', 'test/scenarios/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', performance: 'readonly', URL: 'readonly' },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify handlers and hooks are async by contract (a returned value is the answer) whether or not they await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Plain JavaScript (the board, bin/, scripts, configs): no type information for the type-aware rules.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tests read JSON answers (`res.json()` is any) and poke at internals: the `any` rules would only add casts.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // The gateway runs compiled from dist/ (npm run build): files that are not code come from fromRoot().
    files: ['{model,gateway,connectors,rules,config,sim}/**/*.ts'],
    ignores: ['**/*.test.ts', '**/fixtures/**', 'gateway/package-root.ts'],
    rules: { 'no-restricted-syntax': ['error', ...NO_OWN_PATHS] },
  },
  {
    // Rules and the ticket engine never read the wall clock (one config block: the syntax rules would replace each other).
    files: CLOCKLESS,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Inject a clock or scheduler; rules and the engine never read the wall clock.' }],
      'no-restricted-syntax': ['error', ...NO_OWN_PATHS, ...NO_WALL_CLOCK],
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
