/**
 * The layering of docs/architecture.md ("Layers"), checked by `npm run lint:deps` (part of `npm test`):
 *
 *   model/       Signal, ticket types and their pure predicates, the error catalogue: imports nothing of ours
 *   config/      the config format: model/ and the connectors' own config schemas only
 *   connectors/  protocols → Signals: model/ and config/ only
 *   rules/       Signals → ticket commands (RxJS): model/ and config/ only
 *   gateway/     everything else (engine, store, HTTP, forwarding, notifications); only gateway/store/ runs SQL
 *
 * and no import cycles anywhere. Tests, benches, the simulator and scripts are outside the layers.
 */
const notOurs = '^(node_modules|node:)';
const outside = '(\\.test\\.ts$|/fixtures/|^test/|^bench/|^scripts/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part out (into model/ when it is a type or a pure predicate).',
      from: { pathNot: outside },
      to: { circular: true },
    },
    {
      name: 'model-is-a-leaf',
      severity: 'error',
      comment: 'model/ imports nothing of ours: it is what every layer shares.',
      from: { path: '^model/', pathNot: outside },
      to: { pathNot: ['^model/', notOurs], dependencyTypesNot: ['core'] },
    },
    {
      name: 'config-only-model-and-connector-schemas',
      severity: 'error',
      comment: 'config/ imports model/ and the connectors\' own config schemas (connectors/*/config.ts, connectors/schemas.ts) only.',
      from: { path: '^config/', pathNot: outside },
      to: { pathNot: ['^config/', '^model/', '^connectors/schemas\\.ts$', '^connectors/[^/]+/config\\.ts$', notOurs], dependencyTypesNot: ['core'] },
    },
    {
      name: 'connectors-only-model-and-config',
      severity: 'error',
      comment: 'connectors/ import model/ and config/ only: the gateway knows them through the Connector interface, not the other way round.',
      from: { path: '^connectors/', pathNot: outside },
      to: { pathNot: ['^connectors/', '^model/', '^config/', notOurs], dependencyTypesNot: ['core'] },
    },
    {
      name: 'rules-only-model-and-config',
      severity: 'error',
      comment: 'rules/ import model/ and config/ only: they turn Signals into ticket commands and know nothing of the store, HTTP or timers of tickets.',
      from: { path: '^rules/', pathNot: outside },
      to: { pathNot: ['^rules/', '^model/', '^config/', notOurs], dependencyTypesNot: ['core'] },
    },
    {
      name: 'notify-and-forward-apart',
      severity: 'error',
      comment: 'Notifications and forwarding are two policies on gateway/delivery: neither imports the other.',
      from: { path: '^gateway/notify/', pathNot: outside },
      to: { path: '^gateway/forward/' },
    },
    {
      name: 'forward-and-notify-apart',
      severity: 'error',
      comment: 'Notifications and forwarding are two policies on gateway/delivery: neither imports the other.',
      from: { path: '^gateway/forward/', pathNot: outside },
      to: { path: '^gateway/notify/' },
    },
    {
      name: 'only-the-store-runs-sql',
      severity: 'error',
      comment: 'Only gateway/store/ talks to SQLite (better-sqlite3, knex).',
      from: { pathNot: ['^gateway/store/', outside, '^sim/'] },
      to: { path: 'node_modules/(better-sqlite3|knex)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
  },
};
