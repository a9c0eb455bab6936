import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';
import { startAedes, type AedesBroker } from './fixtures/brokers.ts';
import { harness, testClient, type Harness } from './fixtures/harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const problems = (sub: Record<string, unknown>) =>
  validateConfig({ gateway: { id: 'x' }, sources: [{ id: 'mes', type: 'mqtt', url: 'mqtt://127.0.0.1:1883', subscriptions: [sub] }] }).problems.map((p) => [
    p.path,
    p.code,
    p.message,
  ]);

describe('JSONata mapping: config', () => {
  it('a bad expression is a config error with its path and position', () => {
    expect(problems({ topic: 'a/+', value: { jsonata: 'data.v +' } })).toEqual([
      [
        'sources[0].subscriptions[0].value.jsonata',
        'ANDON_CONFIG_INVALID_EXPRESSION',
        'JSONata expression "data.v +" is invalid at position 8: Unexpected end of expression (S0207)',
      ],
    ]);
    expect(problems({ topic: 'a/+', tag: { jsonata: '$join([$topic, code' } })[0]?.slice(0, 2)).toEqual([
      'sources[0].subscriptions[0].tag.jsonata',
      'ANDON_CONFIG_INVALID_EXPRESSION',
    ]);
  });

  it('takes { jsonata } for tag, value, ts and message only, and refuses other keys in it', () => {
    expect(problems({ topic: 'a/+', tag: { jsonata: 'code' }, value: { jsonata: 'v' }, ts: { jsonata: 't' }, message: { jsonata: 'm' } })).toEqual([]);
    expect(problems({ topic: 'a/+', asset: { jsonata: 'a' } })[0]?.[0]).toBe('sources[0].subscriptions[0].asset');
    expect(problems({ topic: 'a/+', value: { jsonata: 'v', extra: 1 } })[0]?.[1]).toBe('ANDON_CONFIG_UNKNOWN_KEY');
  });
});

let broker: AedesBroker;
let h: Harness;
let pub: MqttClient;

beforeAll(async () => {
  broker = await startAedes();
  h = harness({
    url: broker.url,
    subscriptions: [
      {
        topic: 'mes/+/batch',
        // tag from the topic and a field, value computed from a list, ts from text, message built
        tag: { jsonata: "$captures[0] & '/' & $lowercase(kind)" },
        value: { jsonata: '$sum(readings.v)' },
        ts: { jsonata: "$toMillis(stamp, '[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]')" },
        message: { jsonata: "kind & ' on ' & $topic" },
        asset: '{1}',
      },
      // JSONata next to a simple path in one subscription
      { topic: 'mix/+', tag: 'mix/{1}', value: { jsonata: 'v * 2' }, ts: '$.t' },
      { topic: 'loop/+', value: { jsonata: '($f := function($n){ $f($n + 1) }; $f(0))' } },
      { topic: 'list/+', value: { jsonata: 'items' } },
    ],
  });
  await h.connector.start();
  await h.status('up');
  pub = await testClient(broker.url);
});

afterAll(async () => {
  await pub?.endAsync();
  await h?.stop();
  await broker?.close();
});

describe('JSONata mapping: messages', () => {
  it('maps tag, value, ts and message with JSONata, with $topic and $captures', async () => {
    await pub.publishAsync('mes/oven-2/batch', JSON.stringify({ kind: 'TEMP', readings: [{ v: 1 }, { v: 2.5 }], stamp: '2026-01-20 08:01:01' }), {
      qos: 1,
    });
    const s = await h.signal((x) => x.tag === 'oven-2/temp');
    expect(s).toEqual({
      source: 'mes',
      tag: 'oven-2/temp',
      value: 3.5,
      quality: 'good',
      ts: Date.parse('2026-01-20T08:01:01Z'),
      asset: 'oven-2',
      message: 'TEMP on mes/oven-2/batch',
    });
  });

  it('keeps the order of messages and of items in an array payload', async () => {
    const sends: Promise<unknown>[] = [];
    for (let i = 1; i <= 50; i++)
      sends.push(
        pub.publishAsync(
          'mix/a',
          JSON.stringify([
            { v: i, t: 1000 + i },
            { v: -i, t: 2000 + i },
          ]),
          { qos: 1 },
        ),
      );
    await Promise.all(sends);
    const got = await h.count((x) => x.tag === 'mix/a', 100);
    expect(got.map((s) => s.value)).toEqual(Array.from({ length: 50 }, (_, i) => [(i + 1) * 2, -(i + 1) * 2]).flat());
  });

  it('a failing expression refuses that item (reason expression, logged with its code) and the rest goes on', async () => {
    const before = h.rejects.get('expression') ?? 0;
    const beforeWrong = h.rejects.get('wrong-type') ?? 0;
    await pub.publishAsync(
      'mix/b',
      JSON.stringify([
        { v: 'x', t: 1 },
        { v: 4, t: 2 },
      ]),
      { qos: 1 },
    ); // "x" * 2 is a type error
    await pub.publishAsync('mes/m/batch', JSON.stringify({ kind: 'A', readings: { v: 'one' }, stamp: '2026-01-20 08:01:01' }), { qos: 1 }); // $sum of text
    await pub.publishAsync('loop/1', JSON.stringify({}), { qos: 1 }); // runs into the time / depth limit
    await pub.publishAsync('list/c', JSON.stringify({ items: [1, 2] }), { qos: 1 }); // a list is not a value
    await pub.publishAsync('mix/b', JSON.stringify({ v: 5, t: 4 }), { qos: 1 });
    const last = await h.signal((x) => x.tag === 'mix/b' && x.value === 10);
    expect(last.ts).toBe(4);
    expect(h.signals.filter((s) => s.tag === 'mix/b').map((s) => s.value)).toEqual([8, 10]);
    expect((h.rejects.get('expression') ?? 0) - before).toBe(3);
    expect((h.rejects.get('wrong-type') ?? 0) - beforeWrong).toBe(1);
    const logged = h.logs.find((l) => l.reason === 'expression');
    expect(logged).toMatchObject({ code: 'ANDON_MQTT_EXPRESSION_FAILED', topic: 'mix/b' });
    expect(String(logged?.why)).toMatch(/^value "v \* 2": .*T2001/);
  });
});

describe('loading', () => {
  it('loads the jsonata library with the first expression, not with the gateway', () => {
    // a process of its own: the CommonJS module cache is shared by every test file of a worker
    const script = [
      "import { createRequire } from 'node:module';",
      'const cache = createRequire(import.meta.url).cache;',
      "const loaded = () => Object.keys(cache).some((f) => f.includes('/node_modules/jsonata/'));",
      "await import('./gateway/main.ts');",
      "const { compileJsonata } = await import('./connectors/mqtt/jsonata.ts');",
      'const before = loaded();',
      "const compiled = compileJsonata('a + 1');",
      'console.log(JSON.stringify({ before, after: loaded(), value: await compiled.evaluate({ a: 1 }) }));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '')).toEqual({ before: false, after: true, value: 2 });
  });
});
