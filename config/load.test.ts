import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { AndonError } from '../model/errors.ts';
import { ConfigError, loadConfig, parseConfig, readYaml, validateConfig, type ConfigProblem } from './load.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const scenariosDir = fileURLToPath(new URL('../test/scenarios/', import.meta.url));

/** The problems a refused load reports; fails the test when the load succeeds or throws something else. */
function refusal(load: () => unknown): ConfigProblem[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be refused, but it loaded');
}

const problemsOf = (name: string, env: NodeJS.ProcessEnv = {}) => refusal(() => loadConfig(fixture(`bad/${name}`), env));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('loadConfig refuses a broken file with the exact path and code', () => {
  // One fixture per refusal; each must produce exactly this one problem.
  const cases: { file: string; path: string; code: string; mentions?: string }[] = [
    { file: 'unknown-top-level-key.yaml', path: 'signals', code: 'ANDON_CONFIG_UNKNOWN_KEY', mentions: 'signals' },
    { file: 'unknown-rule-key.yaml', path: 'rules[0].when.clearBellow', code: 'ANDON_CONFIG_UNKNOWN_KEY', mentions: 'clearBellow' },
    { file: 'missing-gateway-id.yaml', path: 'gateway.id', code: 'ANDON_CONFIG_MISSING', mentions: 'required' },
    { file: 'bad-duration.yaml', path: 'rules[0].when.for', code: 'ANDON_CONFIG_INVALID_DURATION', mentions: '10 seconds' },
    { file: 'verify-fix-after-too-long.yaml', path: 'correlation.verifyFix.after', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: '10 years' },
    { file: 'early-warning-precision.yaml', path: 'correlation.earlyWarning.minPrecision', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: '<=1' },
    { file: 'pattern-empty-segment.yaml', path: 'rules[0].when.tag', code: 'ANDON_CONFIG_INVALID_PATTERN', mentions: 'a//b' },
    { file: 'pattern-mqtt-wildcard.yaml', path: 'rules[0].when.tag', code: 'ANDON_CONFIG_INVALID_PATTERN', mentions: 'MQTT' },
    { file: 'pattern-double-star-in-segment.yaml', path: 'rules[0].when.tag', code: 'ANDON_CONFIG_INVALID_PATTERN', mentions: 'a**' },
    { file: 'rule-two-detectors.yaml', path: 'rules[0].when', code: 'ANDON_CONFIG_INVALID_RULE', mentions: 'found equals, above' },
    { file: 'rule-no-detector.yaml', path: 'rules[0].when', code: 'ANDON_CONFIG_INVALID_RULE', mentions: 'found none' },
    { file: 'mqtt-jsonata-syntax.yaml', path: 'sources[0].subscriptions[0].value.jsonata', code: 'ANDON_CONFIG_INVALID_EXPRESSION', mentions: 'position 15' },
    { file: 'clear-below-over-above.yaml', path: 'rules[0].when.clearBelow', code: 'ANDON_CONFIG_INVALID_RULE', mentions: 'must not exceed above' },
    { file: 'clear-below-with-below.yaml', path: 'rules[0].when.clearBelow', code: 'ANDON_CONFIG_INVALID_RULE', mentions: 'deadband of above' },
    { file: 'silent-for-without-source.yaml', path: 'rules[0].when.source', code: 'ANDON_CONFIG_INVALID_RULE', mentions: 'source' },
    { file: 'rule-notify-unknown-channel.yaml', path: 'rules[0].notify[0]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'duty-supervisor' },
    { file: 'routing-notify-unknown-channel.yaml', path: 'routing[0].notify[0]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'duty-supervisor' },
    { file: 'escalation-notify-unknown-channel.yaml', path: 'escalation[1].notify[0]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'production-vp' },
    { file: 'action-unknown-source.yaml', path: 'actions[0].write.source', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'packaging-plc' },
    { file: 'escalation-match-empty-list.yaml', path: 'escalation[0].match.priority', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'empty list' },
    { file: 'cause-unknown-fault.yaml', path: 'correlation.causes[0].cause', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'voltage-sag' },
    { file: 'duplicate-rule-id.yaml', path: 'rules[1].id', code: 'ANDON_CONFIG_DUPLICATE_ID', mentions: 'alarms' },
    { file: 'bad-timezone.yaml', path: 'gateway.timezone', code: 'ANDON_CONFIG_INVALID_TIMEZONE', mentions: 'Asia/Shangai' },
    { file: 'bad-locale.yaml', path: 'gateway.locale', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'zh-CN' },
    { file: 'close-checklist-duplicate-id.yaml', path: 'lifecycle.closeChecklist[1].id', code: 'ANDON_CONFIG_DUPLICATE_ID', mentions: 'lockoutRemoved' },
    { file: 'bad-priority.yaml', path: 'rules[0].priority', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'P0' },
    { file: 'port-as-string.yaml', path: 'gateway.http.port', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'number' },
    { file: 'http-request-timeout-off.yaml', path: 'gateway.http.requestTimeout', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'between 10ms and 5m' },
    { file: 'env-unset.yaml', path: 'forward.token', code: 'ANDON_CONFIG_ENV', mentions: 'ANDON_TEST_UNSET_VAR' },
    { file: 'notify-url-not-http.yaml', path: 'notify.duty.url', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'http:// or https://' },
    { file: 'notify-secret-not-dingtalk.yaml', path: 'notify.duty.secret', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'DingTalk' },
    { file: 'notify-bad-header-name.yaml', path: 'notify.wall.headers.X Token', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'not an HTTP header name' },
    { file: 'notify-backoff-base-over-max.yaml', path: 'notify.wall.backoff.base', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'must not exceed' },
    { file: 'token-short.yaml', path: 'gateway.auth.tokens[0].token', code: 'ANDON_CONFIG_WEAK_TOKEN', mentions: '16 characters' },
    { file: 'token-placeholder-public.yaml', path: 'gateway.auth.tokens[0].token', code: 'ANDON_CONFIG_WEAK_TOKEN', mentions: 'placeholder' },
    { file: 'forward-url-credentials.yaml', path: 'forward.url', code: 'ANDON_CONFIG_SECRET_IN_URL', mentions: 'forward.token' },
    { file: 'notify-url-credentials.yaml', path: 'notify.wall.url', code: 'ANDON_CONFIG_SECRET_IN_URL', mentions: 'headers' },
    // on-call schedules (issue 16)
    { file: 'schedule-person-unknown-channel.yaml', path: 'schedules.people.wang.notify', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'wang-phone' },
    { file: 'schedule-unknown-person.yaml', path: 'schedules.groups.maintenance.shifts[0].onCall[1]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: '"lee"' },
    { file: 'schedule-shifts-overlap.yaml', path: 'schedules.groups.maintenance.shifts[1].start', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'overlap (Mon 17:00 to 18:00 local)' },
    { file: 'schedule-rotation-not-whole-days.yaml', path: 'schedules.groups.maintenance.shifts[0].every', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'whole days' },
    { file: 'schedule-bad-time.yaml', path: 'schedules.groups.maintenance.shifts[0].start', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'HH:MM' },
    { file: 'schedule-bad-date.yaml', path: 'schedules.groups.maintenance.rotationStart', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'YYYY-MM-DD' },
    { file: 'schedule-override-unknown-shift.yaml', path: 'schedules.groups.maintenance.overrides[0].shift', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'night' },
    { file: 'escalation-on-duty-unknown-group.yaml', path: 'escalation[1].onDuty[0].group', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'maintenence' },
    { file: 'audit-retention-short.yaml', path: 'store.auditRetention', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'at least 1h' },
    { file: 'oidc-http-issuer.yaml', path: 'gateway.auth.oidc.issuer', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'loopback' },
    { file: 'oidc-no-roles.yaml', path: 'gateway.auth.oidc.roleMap', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'no role' },
    { file: 'rule-label-unknown.yaml', path: 'rules[0].labels[0]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', mentions: 'knowledge.labels' },
    { file: 'record-types-without-acceptance.yaml', path: 'records.types', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'acceptance' },
    { file: 'require-acceptance-bad-priority.yaml', path: 'lifecycle.requireAcceptance[0]', code: 'ANDON_CONFIG_INVALID_VALUE', mentions: 'P0' },
  ];

  it.each(cases)('$file -> $path: $code', ({ file, path, code, mentions }) => {
    const problems = problemsOf(file);
    expect(problems).toEqual([{ path, code, message: expect.any(String) }]);
    if (mentions) expect(problems[0]?.message).toContain(mentions);
  });

  it('every fixture under fixtures/bad is covered by a test', () => {
    const covered = new Set([...cases.map((c) => c.file), 'invalid-yaml.yaml', 'several-problems.yaml']);
    const files = readdirSync(fileURLToPath(new URL('./fixtures/bad/', import.meta.url))).filter((f) => f.endsWith('.yaml'));
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  it('the thrown ConfigError is an AndonError carrying the first problem as code and path', () => {
    let caught: unknown;
    try {
      loadConfig(fixture('bad/bad-duration.yaml'), {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AndonError);
    expect(caught).toMatchObject({ code: 'ANDON_CONFIG_INVALID_DURATION', path: 'rules[0].when.for', status: 400 });
    expect((caught as Error).message).toBe(
      'rules[0].when.for: ANDON_CONFIG_INVALID_DURATION: "10 seconds" is not a duration; write e.g. 250ms, 30s, 10m, 4h or 1d',
    );
  });

  it('invalid YAML is ANDON_CONFIG_YAML with the line it fails on', () => {
    const problems = problemsOf('invalid-yaml.yaml');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'ANDON_CONFIG_YAML', path: expect.stringMatching(/^line \d+$/) });
  });

  it('an alias bomb ("billion laughs") is ANDON_CONFIG_YAML, not a ReferenceError', () => {
    const letters = 'abcdefghij';
    const text = ['a: &a [x, x, x, x, x, x, x, x, x]', ...[...letters.slice(1)].map((l, i) => `${l}: &${l} [${Array(9).fill(`*${letters[i]}`).join(', ')}]`)].join('\n');
    expect(refusal(() => parseConfig(text, {}))).toEqual([{ path: '', code: 'ANDON_CONFIG_YAML', message: expect.stringContaining('alias') }]);
  });

  it('a document nested thousands of levels deep is a problem, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const { config, problems } = validateConfig({ gateway: { id: 'a' }, rules: deep }, {});
    expect(config).toBeUndefined();
    expect(problems).toContainEqual({ path: expect.stringMatching(/^rules\[0\]/), code: 'ANDON_CONFIG_INVALID_VALUE', message: 'nested more than 64 levels deep' });
  });

  it('a duplicate YAML key is ANDON_CONFIG_YAML, not a silent override', () => {
    const problems = refusal(() => parseConfig('gateway: { id: plant-x }\ngateway: { id: plant-y }\n', {}));
    expect(problems).toEqual([{ path: 'line 2', code: 'ANDON_CONFIG_YAML', message: expect.stringContaining('unique') }]);
  });

  it('a file that does not exist is ANDON_CONFIG_FILE naming the file', () => {
    const missing = fixture('bad/no-such-file.yaml');
    const problems = refusal(() => loadConfig(missing, {}));
    expect(problems).toEqual([{ path: '', code: 'ANDON_CONFIG_FILE', message: expect.stringContaining(missing) }]);
  });

  it('a file with several problems reports all of them, in document order', () => {
    expect(problemsOf('several-problems.yaml')).toEqual([
      { path: 'gateway.id', code: 'ANDON_CONFIG_MISSING', message: 'is required' },
      { path: 'gateway.htpp', code: 'ANDON_CONFIG_UNKNOWN_KEY', message: 'unknown key "htpp"' },
      { path: 'rules[0].when.for', code: 'ANDON_CONFIG_INVALID_DURATION', message: expect.stringContaining('10 seconds') },
      { path: 'rules[0].priority', code: 'ANDON_CONFIG_INVALID_VALUE', message: expect.any(String) },
      // a broken reference is reported in the same run as the field problems
      { path: 'rules[0].notify[0]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', message: expect.stringContaining('night-shift') },
    ]);
  });

  it('a missing env var is reported together with the field problems', () => {
    const problems = refusal(() => parseConfig('gateway: { id: plant-x, dataDir: "${ANDON_TEST_DIR}/andon" }\nsignals: []\n', {}));
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['gateway.dataDir', 'ANDON_CONFIG_ENV'],
      ['signals', 'ANDON_CONFIG_UNKNOWN_KEY'],
    ]);
  });
});

describe('environment references', () => {
  it('${VAR} without a default and without the variable is refused, with the variable set it is used', () => {
    expect(problemsOf('env-unset.yaml', { ANDON_TEST_UNSET_VAR: '' })[0]?.code).toBe('ANDON_CONFIG_ENV');
    const config = loadConfig(fixture('bad/env-unset.yaml'), { ANDON_TEST_UNSET_VAR: 'secret-from-env' });
    expect(config.forward?.token).toBe('secret-from-env');
  });

  it('${VAR:-default} takes the default when the variable is unset', () => {
    const config = loadConfig(fixture('good/env-default.yaml'), {});
    expect(config.gateway.id).toBe('plant-x');
    expect(config.forward).toMatchObject({ url: 'http://127.0.0.1:9100', token: 'local-dev-token' });
  });

  it('a variable that is set but empty is refused, also where ${VAR:-default} has a default', () => {
    expect(problemsOf('env-unset.yaml', { ANDON_TEST_UNSET_VAR: '' })).toEqual([{ path: 'forward.token', code: 'ANDON_CONFIG_ENV', message: expect.stringContaining('set but empty') }]);
    const problems = refusal(() => loadConfig(fixture('good/env-default.yaml'), { ANDON_TEST_CENTRAL_TOKEN: '' }));
    expect(problems).toEqual([{ path: 'forward.token', code: 'ANDON_CONFIG_ENV', message: expect.stringContaining('ANDON_TEST_CENTRAL_TOKEN') }]);
  });

  it('an empty token variable never falls back to the example\'s change-me token', () => {
    const problems = refusal(() => loadConfig(fileURLToPath(new URL('./example.yaml', import.meta.url)), { ANDON_OPERATOR_TOKEN: '' }));
    expect(problems).toEqual([{ path: 'gateway.auth.tokens[1].token', code: 'ANDON_CONFIG_ENV', message: expect.stringContaining('ANDON_OPERATOR_TOKEN') }]);
  });

  it('${VAR:-default} takes the variable when it is set', () => {
    const config = loadConfig(fixture('good/env-default.yaml'), {
      ANDON_TEST_GATEWAY_ID: 'plant-b',
      ANDON_TEST_CENTRAL_HOST: '10.0.0.7',
      ANDON_TEST_CENTRAL_TOKEN: 'from-env',
    });
    expect(config.gateway.id).toBe('plant-b');
    expect(config.forward).toMatchObject({ url: 'http://10.0.0.7:9100', token: 'from-env' });
  });

  it('interpolates values only, never keys', () => {
    const problems = refusal(() => parseConfig('gateway: { id: plant-x }\n"${ANDON_TEST_KEY:-rules}": []\n', {}));
    expect(problems).toEqual([{ path: '${ANDON_TEST_KEY:-rules}', code: 'ANDON_CONFIG_UNKNOWN_KEY', message: expect.any(String) }]);
  });
});

describe('defaults', () => {
  const config = loadConfig(fixture('good/minimal.yaml'), {});

  it('UTC (the default) and Etc/UTC are taken without Intl (its zone data stays unloaded); another zone is checked with it', () => {
    const spy = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      for (const tz of ['UTC', 'Etc/UTC']) expect(parseConfig(`gateway: { id: plant-x, timezone: ${tz} }\n`, {}).gateway.timezone).toBe(tz);
      expect(parseConfig('gateway: { id: plant-x }\n', {}).gateway.timezone).toBe('UTC');
      expect(spy).not.toHaveBeenCalled();
      expect(parseConfig('gateway: { id: plant-x, timezone: Europe/Berlin }\n', {}).gateway.timezone).toBe('Europe/Berlin');
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('gateway defaults: UTC, en, ./data, http on 127.0.0.1:8080, no anonymous read, no tokens, 5m clock skew, 100k tags in the tag view', () => {
    expect(config.gateway).toEqual({
      id: 'plant-x',
      timezone: 'UTC',
      locale: 'en',
      maxClockSkew: 300_000,
      dataDir: './data',
      http: { host: '127.0.0.1', port: 8080, bodyLimit: 1_048_576, signalBodyLimit: 524_288, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxConnections: 256 },
      auth: { anonymousRead: false, tokens: [] },
      tagView: { maxTags: 100_000 },
    });
  });

  it('lifecycle defaults: close needs the three checklist items of contracts §Lifecycle', () => {
    expect(config.lifecycle).toEqual({ closeChecklist: [{ id: 'customerInformed' }, { id: 'partsRecorded' }, { id: 'knowledgeBaseChecked' }], requireAcceptance: [] });
  });

  it('correlation defaults: chatter 5 in 60s, flood 10 in 10m per area, recurrence 3 in 14d, no causes', () => {
    expect(config.correlation).toEqual({
      chatter: { count: 5, within: 60_000 },
      flood: { count: 10, within: 600_000, per: 'area' },
      recurrence: { count: 3, within: 14 * DAY },
      causes: [],
      verifyFix: {},
      earlyWarning: { minPrecision: 0.5, margin: 0.5 },
    });
  });

  it('the priorities table defaults to the default SLA of docs/config.md, in milliseconds', () => {
    expect(config.priorities).toEqual({
      P0: { respondWithin: 15 * 60_000, resolveWithin: 4 * HOUR },
      P1: { respondWithin: 30 * 60_000, resolveWithin: 8 * HOUR },
      P2: { respondWithin: 4 * HOUR, resolveWithin: 3 * DAY },
      P3: { respondWithin: DAY, resolveWithin: 14 * DAY },
      raiseFor: { criticality: {} },
    });
  });

  it('lists and maps default to empty, shelving to 8h, no forwarding', () => {
    expect(config).toMatchObject({
      sources: [],
      assets: {},
      rules: [],
      routing: [],
      escalation: [],
      notify: {},
      actions: [],
      shelving: { maxDuration: 8 * HOUR },
    });
    expect(config.forward).toBeUndefined();
  });

  it('a partly given section keeps the defaults of the keys it leaves out', () => {
    const partial = parseConfig(
      'gateway: { id: plant-x, http: { port: 9090 } }\ncorrelation: { chatter: { count: 3, within: 30s } }\npriorities: { P1: { respondWithin: 10m, resolveWithin: 1h } }\n',
      {},
    );
    expect(partial.gateway.http).toEqual({ host: '127.0.0.1', port: 9090, bodyLimit: 1_048_576, signalBodyLimit: 524_288, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxConnections: 256 });
    expect(partial.correlation.chatter).toEqual({ count: 3, within: 30_000 });
    expect(partial.correlation.flood).toEqual({ count: 10, within: 600_000, per: 'area' });
    expect(partial.priorities.P1).toEqual({ respondWithin: 600_000, resolveWithin: HOUR });
    expect(partial.priorities.P0).toEqual({ respondWithin: 900_000, resolveWithin: 4 * HOUR });
  });

  it('rule defaults: category general, no notify', () => {
    const c = parseConfig('gateway: { id: plant-x }\nrules:\n  - { id: a, when: { tag: "x/*", equals: true }, fault: f, priority: P2 }\n', {});
    expect(c.rules[0]).toMatchObject({ category: 'general', notify: [] });
  });
});

describe('tokens and secrets', () => {
  const withToken = (host: string, token: string) =>
    `gateway:\n  id: plant-x\n  http: { host: "${host}" }\n  auth: { tokens: [ { name: control-room, role: operator, token: "${token}" } ] }\n`;

  it.each(['127.0.0.1', '::1', 'localhost'])('a placeholder token is fine on the loopback address %s (the demo)', (host) => {
    expect(parseConfig(withToken(host, 'demo-operator-token'), {}).gateway.auth.tokens[0]?.token).toBe('demo-operator-token');
  });

  it.each([
    ['0.0.0.0', 'change-me-operator-token'],
    ['0.0.0.0', 'demo-operator-token'],
    ['192.168.10.5', 'CHANGEME-operator-token'],
    ['::', 'change-me-0123456789'],
  ])('on %s the placeholder %s is refused', (host, token) => {
    expect(refusal(() => parseConfig(withToken(host, token), {}))).toEqual([
      { path: 'gateway.auth.tokens[0].token', code: 'ANDON_CONFIG_WEAK_TOKEN', message: expect.stringContaining('placeholder') },
    ]);
  });

  it('an empty or short token is refused wherever the gateway listens', () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      for (const token of ['', 'short-token']) {
        expect(refusal(() => parseConfig(withToken(host, token), {}))).toEqual([{ path: 'gateway.auth.tokens[0].token', code: 'ANDON_CONFIG_WEAK_TOKEN', message: expect.any(String) }]);
      }
    }
    expect(parseConfig(withToken('0.0.0.0', 'f3a9c1d27b6e4a05'), {}).gateway.auth.tokens).toHaveLength(1);
  });

  it('robot keys in a notify URL\'s query stay allowed (the robots know no other way)', () => {
    const c = parseConfig(
      'gateway: { id: plant-x }\nnotify:\n  a: { type: webhook, format: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1" }\n  b: { type: webhook, format: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=t-1" }\n',
      {},
    );
    expect(Object.keys(c.notify)).toEqual(['a', 'b']);
  });

  it('a user name without a password is a credential too', () => {
    expect(refusal(() => parseConfig('gateway: { id: plant-x }\nforward: { type: http, url: "https://andon@central.example" }\n', {}))).toEqual([
      { path: 'forward.url', code: 'ANDON_CONFIG_SECRET_IN_URL', message: expect.any(String) },
    ]);
  });

  it('the shipped configs do not turn on anonymous read, except the demo on 127.0.0.1', () => {
    const shipped = (name: string) => loadConfig(fileURLToPath(new URL(`./${name}`, import.meta.url)), { ANDON_INGEST_TOKEN: 'ingest-0123456789abcdef', ANDON_OPERATOR_TOKEN: 'operator-0123456789abcdef', ANDON_ALERTMANAGER_TOKEN: 'alertmanager-0123456789' });
    expect(shipped('example.yaml').gateway.auth.anonymousRead).toBe(false);
    expect(shipped('docker.yaml').gateway.auth.anonymousRead).toBe(false);
    expect(shipped('demo.yaml').gateway).toMatchObject({ http: { host: '127.0.0.1' }, auth: { anonymousRead: true } });
  });
});

describe('good configs load', () => {
  const env = { ANDON_OPERATOR_TOKEN: 'operator-token-0123456789', CENTRAL_TOKEN: 'central-token' };

  it('the full example config of docs/config.md loads, with durations in ms and env vars filled in', () => {
    const config = loadConfig(fixture('good/design-example.yaml'), env);
    expect(config.gateway).toMatchObject({ id: 'plant-a-line-1', timezone: 'Asia/Shanghai', http: { host: '127.0.0.1', port: 8080 } });
    expect(config.gateway.auth.tokens).toEqual([{ name: 'control-room', role: 'operator', token: 'operator-token-0123456789' }]);
    expect(config.sources.map((s) => `${s.id}:${s.type}`)).toEqual(['packaging-plc:opcua', 'power-meter:modbus', 'mes:mqtt', 'mes-http:http']);
    expect(config.sources[1]).toMatchObject({ pollInterval: 1000, port: 5020 });
    expect(Object.keys(config.assets)).toEqual(['sealer-01', 'feeder-3']);
    expect(config.rules.map((r) => r.id)).toEqual(['sealer-alarm', 'voltage-sag', 'overtemp', 'stuck', 'comms']);
    expect(config.rules[1]?.when).toEqual({ tag: 'utilities/*/voltage', below: 207, for: 0, clearAbove: 215 });
    expect(config.rules[2]?.when).toEqual({ tag: '**/temperature', above: 80, for: 10_000, clearBelow: 78 });
    expect(config.rules[2]?.category).toBe('general');
    expect(config.rules[3]?.when.unchangedFor).toBe(2 * HOUR);
    expect(config.rules[4]?.when).toEqual({ source: '*', silentFor: 30_000 });
    expect(config.correlation.causes).toEqual([{ effect: 'alarm-stop', cause: 'voltage-sag', within: 120_000 }]);
    expect(config.correlation.discoverCauses).toEqual({ within: 300_000, minSupport: 3 });
    expect(config.priorities.raiseFor).toEqual({ criticality: { 'line-stopping': 'P0' } });
    expect(config.routing[1]).toEqual({ match: {}, assign: 'maintenance-general', notify: [] });
    expect(config.escalation.map((e) => e.after)).toEqual(['respondBy', DAY]);
    expect(config.notify['duty-supervisor']).toEqual({
      type: 'webhook',
      format: 'wecom',
      url: 'http://127.0.0.1:9000/hook',
      // defaults of the optional channel settings
      headers: {},
      timeout: 10_000,
      concurrency: 1,
      backoff: { base: 1_000, max: 300_000 },
      maxAge: 86_400_000,
    });
    expect(config.shelving.maxDuration).toBe(8 * HOUR);
    expect(config.actions[0]?.write).toEqual({ source: 'packaging-plc', nodeId: 'ns=1;s=Andon.Red', value: true });
    expect(config.forward).toEqual({ type: 'http', url: 'http://127.0.0.1:9100', token: 'central-token', timeout: 10_000, concurrency: 4 });
  });

  it('the full example config is refused when its env vars are not set', () => {
    const problems = refusal(() => loadConfig(fixture('good/design-example.yaml'), {}));
    expect(problems.filter((p) => p.code === 'ANDON_CONFIG_ENV').map((p) => p.path)).toEqual(['gateway.auth.tokens[0].token', 'forward.token']);
  });

  const scenarios = readdirSync(scenariosDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

  // the five shared scenarios (Asia/Shanghai) and the closed-loop ones of our own, in other plants' zones
  const ZONES: Record<string, string> = {
    flood: 'Asia/Shanghai',
    lifecycle: 'Asia/Shanghai',
    noise: 'Asia/Shanghai',
    'recurring-cause': 'Asia/Shanghai',
    silence: 'Asia/Shanghai',
    'fix-held': 'America/Chicago',
    'fix-failed': 'Asia/Kolkata',
    'early-warning': 'Australia/Adelaide',
  };

  it('there are eight replay scenarios', () => {
    expect(scenarios).toEqual(Object.keys(ZONES).sort());
  });

  it.each(scenarios)('test/scenarios/%s/config.yaml loads', (name) => {
    const config = loadConfig(`${scenariosDir}${name}/config.yaml`, {});
    expect(config.gateway.timezone).toBe(ZONES[name]);
    expect(config.rules.length).toBeGreaterThan(0);
  });
});

describe('reading YAML (js-yaml first, the yaml package for errors and anchors)', () => {
  const dirs = ['good', 'bad'].map((d) => fileURLToPath(new URL(`./fixtures/${d}/`, import.meta.url)));
  const files = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));
  const snippets = [
    'a: 1\nb: 0x1F\nc: 0o17\nd: 1e3\ne: .inf\nf: -.Inf\ng: .nan\nh: ~\ni: null\nj: true\nk: False\nl: yes\nm: no\nn: on\no: 2026-03-01\np: 2026-03-01T08:00:00Z\nq: "quoted: \\u00e9 \\t"\nr: \'single \'\' quote\'\ns: 12:30\nt: 1_000\nu: +12\nv: -1\nw: 007\nx: 3.\n',
    'text: |\n  line one\n  line two\nfolded: >-\n  folded\n  text\nkeep: |+\n  kept\n\nplain: a # comment\n"key: with colon": 1\n? complex\n: value\n',
    'flow: { a: [1, 2, { b: c }], "d": \'e\' }\nlist:\n  - one\n  - - nested\n    - list\n  - { k: v }\nempty: []\nnone: {}\nunicode: 日本語 ✓\n<<: { merged: no }\n',
    '', '# only a comment\n', '---\na: 1\n', '---\na: 1\n...\n', 'plain\n', '- 1\n- 2\n',
  ];
  const same = (text: string) => {
    let expected: unknown;
    try {
      expected = parseYaml(text, { uniqueKeys: true }) ?? null;
    } catch {
      expected = 'error';
    }
    let got: unknown;
    try {
      got = readYaml(text);
    } catch {
      got = 'error';
    }
    return { got, expected };
  };

  it('reads every config fixture and the YAML shapes a config may use as the yaml package does', () => {
    expect(files.length).toBeGreaterThan(40);
    for (const f of files) {
      const { got, expected } = same(readFileSync(f, 'utf8'));
      expect(got, f).toEqual(expected);
    }
    for (const s of snippets) {
      const { got, expected } = same(s);
      expect(got, JSON.stringify(s)).toEqual(expected);
    }
  });

  it('a text js-yaml refuses gets the yaml package\'s error with its line; duplicate keys and alias bombs are refused', () => {
    const problems = refusal(() => parseConfig('gateway:\n  id: a\n  id: b\n', {}));
    expect(problems).toEqual([expect.objectContaining({ code: 'ANDON_CONFIG_YAML', path: 'line 3' })]);
    expect(refusal(() => parseConfig('gateway: { id: [a\n', {}))[0]).toMatchObject({ code: 'ANDON_CONFIG_YAML', path: expect.stringMatching(/^line \d+$/) });
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(refusal(() => parseConfig(`gateway: { id: x }\n${bomb}\n`, {}))[0]).toMatchObject({ code: 'ANDON_CONFIG_YAML' });
  });

  it('a config with anchors and aliases is read (by the yaml package) with its aliases expanded', () => {
    const config = parseConfig('gateway: { id: x }\nsources:\n  - &http { id: a, type: http }\nrules:\n  - { id: r1, when: { tag: "a/*", equals: true }, fault: f, priority: P2 }\n', {});
    expect(config.sources.map((s) => s.id)).toEqual(['a']);
  });
});
