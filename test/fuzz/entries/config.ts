/**
 * Config files: YAML text through parseConfig (and now and then `andon
 * check-config` on a file). The only acceptable outcomes are a config or a
 * ConfigError with problems; anything else thrown, or a slow parse, is a failure.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../../config/load.ts';
import { tempDir } from '../../../connectors/mqtt/fixtures/brokers.ts';
import { main } from '../../../gateway/cli.ts';
import { hostile, mutateBytes, POLLUTING, toText, type Json, type Rng } from '../gen.ts';
import type { Entry } from '../harness.ts';

const VALID: Json = {
  gateway: {
    id: 'plant-a',
    timezone: 'Asia/Shanghai',
    http: { port: 8080 },
    auth: { tokens: [{ name: 'mes', role: 'ingest', token: 'ingest-token-0123456789' }] },
  },
  sources: [
    { id: 'mes-http', type: 'http' },
    {
      id: 'mes',
      type: 'mqtt',
      url: 'mqtt://127.0.0.1:1883',
      subscriptions: [{ topic: 'mes/+/alarms', tag: 'line/{1}/alarm/{code}', value: '$.active', asset: '{1}' }],
    },
  ],
  assets: { 'sealer-01': { area: 'packaging', criticality: 'high', tags: ['packaging/sealer-01/**'] } },
  rules: [
    { id: 'alarms', when: { tag: '**/alarm/**', equals: true }, fault: 'alarm-stop', priority: 'P1' },
    { id: 'temps', when: { tag: '**/temperature', above: 80, for: '30s', clearBelow: 75 }, fault: 'overtemp', priority: 'P2' },
    { id: 'quiet', when: { source: 'mes', silentFor: '10m' }, fault: 'comms-lost', priority: 'P2' },
  ],
  correlation: { chatter: { count: 5, within: '1m' }, flood: { count: 10, within: '10m', per: 'area' } },
};
const VALID_TEXT = Buffer.from(stringify(VALID));
const NOW = Date.parse('2026-03-02T08:00:00.000Z');

/** Every [path, container] of objects and arrays in `v`. */
function containers(v: Json, path: string[] = [], out: [string[], Json[] | { [k: string]: Json }][] = []) {
  // Not into what an earlier mutation put there (a 5,000-deep value would make this quadratic).
  if (v !== null && typeof v === 'object' && path.length < 8) {
    out.push([path, v]);
    for (const [k, x] of Object.entries(v)) containers(x, [...path, k], out);
  }
  return out;
}

/** Changes one to three places anywhere in the config: a hostile value, a deletion, an unknown or polluting key. */
function mutateConfig(rng: Rng): { text: string; op: string } {
  const v = JSON.parse(JSON.stringify(VALID)) as Json;
  const ops: string[] = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const [path, c] = rng.pick(containers(v));
    const keys = Object.keys(c);
    const key = keys.length > 0 && rng.chance(0.85) ? rng.pick(keys) : rng.pick(['extra', ...Object.keys(POLLUTING)]);
    const op = rng.int(4);
    if (op === 0 && !Array.isArray(c)) delete c[key];
    else (c as Record<string, Json>)[key] = op === 3 && Object.hasOwn(POLLUTING, key) ? (POLLUTING[key] as Json) : hostile(rng, NOW);
    ops.push(`${op === 0 ? 'delete' : 'set'} ${[...path, key].join('.').slice(0, 80)}`);
  }
  try {
    return { text: stringify(v, { aliasDuplicateObjects: false }), op: ops.join(', ') };
  } catch {
    return { text: toText(v), op: `${ops.join(', ')} (as JSON)` };
  }
}

const SPECIALS: (() => string)[] = [
  () =>
    `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n')}\n`, // billion laughs
  () => `${'- '.repeat(5_000)}x\n`,
  () => `${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
  () => 'gateway: !!js/function "function(){}"\n',
  () => 'gateway: { id: a }\ngateway: { id: b }\n',
  () => '<<: { gateway: { id: a } }\nsources: []\nrules: []\n',
  () => 'gateway:\n\tid: tab\n',
  () => 'gateway: { id: "${HOME:-x}${NOPE}" }\n',
  () => '\u0000\u0001gateway: x',
  () => `gateway: { id: ${'x'.repeat(1_000_000)} }\n`,
  () => '--- !!binary AAAA\n',
  () => '%YAML 9.9\n---\ngateway: {}\n',
  () => 'gateway: { id: a, dataDir: ? }\n',
];

export const configEntry = (): Entry => ({
  name: 'config',
  generate(rng) {
    const k = rng.int(10);
    if (k < 6) {
      const m = mutateConfig(rng);
      return { kind: `structured: ${m.op}`, data: m.text, poison: false, meta: { cli: rng.chance(0.02) ? 'yes' : '' } };
    }
    if (k < 9) {
      const m = mutateBytes(rng, VALID_TEXT);
      return { kind: `bytes: ${m.op}`, data: m.data.toString('utf8'), poison: false, meta: { cli: rng.chance(0.02) ? 'yes' : '' } };
    }
    const i = rng.int(SPECIALS.length);
    return { kind: `special ${i}`, data: (SPECIALS[i] as () => string)(), poison: false };
  },
  async start() {
    const tmp = tempDir('andon-fuzz-config-');
    const file = join(tmp.dir, 'andon.yaml');
    return {
      async send(p) {
        const text = p.data as string;
        const started = performance.now();
        let label: string;
        try {
          parseConfig(text, {});
          label = 'ok';
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          if (err.problems.length === 0) throw new Error('a ConfigError without problems');
          label = `ConfigError ${err.problems[0]?.code}`;
        }
        const ms = performance.now() - started;
        if (ms > 2_000) throw new Error(`parseConfig took ${ms.toFixed(0)} ms`);
        if (p.meta?.cli) {
          writeFileSync(file, text);
          const code = await main(['check-config', file], { out: () => undefined, err: () => undefined });
          if (code !== (label === 'ok' ? 0 : 1)) throw new Error(`andon check-config exited ${code} where parseConfig gave ${label}`);
        }
        return label;
      },
      async check() {
        parseConfig(stringify(VALID), {});
      },
      async close() {
        tmp.remove();
      },
    };
  },
});
