import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type AedesBroker } from './fixtures/brokers.ts';
import { harness, testClient, type Harness } from './fixtures/harness.ts';

let broker: AedesBroker;
let h: Harness;
let pub: MqttClient;

beforeAll(async () => {
  broker = await startAedes();
  h = harness({
    url: broker.url,
    subscriptions: [
      // The design's example: {1} is the segment under "+", {code} a field of the payload.
      {
        topic: 'mes/+/alarms',
        format: 'json',
        tag: 'packaging/{1}/alarm/{code}',
        value: '$.active',
        ts: '$.ts',
        asset: '{1}',
        severity: '$.sev',
        message: '$.text',
      },
      // Captures count wildcards only, left to right; "#" captures the rest joined with "/".
      { topic: 'plant/+/line/+/#', tag: '{1}/{2}/{3}', value: '$.data.v', quality: '$.data.q', ts: '$.t', asset: '{2}' },
      // Everything by default: tag = topic, value = $.value (a bare scalar payload is its own value).
      { topic: 'raw/#' },
      { topic: 'lists/+', tag: 'lists/{1}/{name}', value: "$['reading value']", quality: 'uncertain' },
      // Units: a constant, or from the payload; decimals rounds numbers.
      { topic: 'meters/+/voltage', tag: 'utilities/{1}/voltage', value: '$.v', unit: 'V', decimals: 1 },
      { topic: 'meters/+/any', tag: 'utilities/{1}/{name}', value: '$.v', unit: '{u}' },
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

describe('JSON subscriptions', () => {
  it('maps the design example: capture {1}, field {code}, JSON paths for value and ts, ISO time', async () => {
    await pub.publishAsync(
      'mes/sealer-01/alarms',
      JSON.stringify({ code: 'E21', active: true, ts: '2026-01-20T08:01:01.000Z', sev: 700, text: 'seal jaw fault' }),
      { qos: 1 },
    );
    const s = await h.signal((x) => x.tag === 'packaging/sealer-01/alarm/E21');
    expect(s).toEqual({
      source: 'mes',
      tag: 'packaging/sealer-01/alarm/E21',
      value: true,
      quality: 'good',
      ts: Date.parse('2026-01-20T08:01:01.000Z'),
      asset: 'sealer-01',
      severity: 700,
      message: 'seal jaw fault',
    });
  });

  it('a unit (constant or from the payload) goes with the signal; decimals rounds numbers', async () => {
    await pub.publishAsync('meters/feeder-3/voltage', JSON.stringify({ v: 196.39999389648438 }), { qos: 1 });
    expect(await h.signal((x) => x.tag === 'utilities/feeder-3/voltage')).toMatchObject({ value: 196.4, unit: 'V' });
    await pub.publishAsync('meters/feeder-3/any', JSON.stringify({ name: 'flow', v: 12.345, u: 'm³/h' }), { qos: 1 });
    expect(await h.signal((x) => x.tag === 'utilities/feeder-3/flow')).toMatchObject({ value: 12.345, unit: 'm³/h' });
    await pub.publishAsync('meters/feeder-3/any', JSON.stringify({ name: 'count', v: 7 }), { qos: 1 });
    expect(await h.signal((x) => x.tag === 'utilities/feeder-3/count')).not.toHaveProperty('unit');
  });

  it('numbers wildcards left to right ({1}, {2}) and lets "#" capture several levels ({3})', async () => {
    await pub.publishAsync('plant/pack/line/3/sealer-01/temperature', JSON.stringify({ data: { v: 81.5, q: 'BAD' }, t: 1768896061000 }), { qos: 1 });
    const s = await h.signal((x) => x.tag.startsWith('pack/3/'));
    expect(s).toEqual({ source: 'mes', tag: 'pack/3/sealer-01/temperature', value: 81.5, quality: 'bad', ts: 1768896061000, asset: '3' });
  });

  it('"#" also matches the parent level, capturing an empty string', async () => {
    await pub.publishAsync('plant/pack/line/4', JSON.stringify({ data: { v: 1 }, t: 5 }), { qos: 1 });
    const s = await h.signal((x) => x.tag === 'pack/4/');
    expect(s.value).toBe(1);
  });

  it('defaults: tag is the topic, value $.value, quality good, ts the arrival time', async () => {
    const before = Date.now();
    await pub.publishAsync('raw/a/b', JSON.stringify({ value: 'RUN' }), { qos: 1 });
    const s = await h.signal((x) => x.tag === 'raw/a/b');
    expect(s).toMatchObject({ tag: 'raw/a/b', value: 'RUN', quality: 'good' });
    expect(s.ts).toBeGreaterThanOrEqual(before);
    expect(s.ts).toBeLessThanOrEqual(Date.now());
    expect(s).not.toHaveProperty('asset');
  });

  it('a bare JSON scalar payload is its own value; a leading BOM is ignored', async () => {
    await pub.publishAsync('raw/scalar', '230.4', { qos: 1 });
    await pub.publishAsync('raw/flag', 'false', { qos: 1 });
    await pub.publishAsync('raw/bom', '\uFEFF{"value": 7}', { qos: 1 }); // a byte order mark some MES send
    expect((await h.signal((x) => x.tag === 'raw/scalar')).value).toBe(230.4);
    expect((await h.signal((x) => x.tag === 'raw/flag')).value).toBe(false);
    expect((await h.signal((x) => x.tag === 'raw/bom')).value).toBe(7);
  });

  it('an array payload gives one signal per object; a bad item is refused alone', async () => {
    const before = h.rejects.get('unmapped') ?? 0;
    const items = [
      { name: 'a', 'reading value': 1 },
      { name: 'b', 'reading value': null },
      { 'reading value': 3 }, // no name: its tag cannot be made
      { name: 'c', 'reading value': 'x' },
    ];
    await pub.publishAsync('lists/l1', JSON.stringify(items), { qos: 1 });
    const got = await h.count((x) => x.tag.startsWith('lists/l1/'), 3);
    expect(got.map((s) => [s.tag, s.value, s.quality])).toEqual([
      ['lists/l1/a', 1, 'uncertain'],
      ['lists/l1/b', null, 'uncertain'],
      ['lists/l1/c', 'x', 'uncertain'],
    ]);
    expect(h.rejects.get('unmapped')).toBe(before + 1);
  });

  it('accepts ts as epoch ms (number or digits) and ISO; quality as boolean or an OPC number', async () => {
    await pub.publishAsync('plant/p/line/1/x', JSON.stringify({ data: { v: 1, q: true }, t: '1700000000123' }), { qos: 1 });
    await pub.publishAsync('plant/p/line/2/x', JSON.stringify({ data: { v: 2, q: 64 }, t: '2026-01-20T08:00:00+08:00' }), { qos: 1 });
    const a = await h.signal((x) => x.tag === 'p/1/x');
    const b = await h.signal((x) => x.tag === 'p/2/x');
    expect([a.ts, a.quality]).toEqual([1700000000123, 'good']);
    expect([b.ts, b.quality]).toEqual([Date.parse('2026-01-20T00:00:00Z'), 'uncertain']);
  });

  it('refuses wrong types and missing values with their reason, and goes on', async () => {
    const count = (r: string) => h.rejects.get(r as never) ?? 0;
    const before = { wrong: count('wrong-type'), unmapped: count('unmapped'), malformed: count('malformed') };
    await pub.publishAsync('mes/m1/alarms', JSON.stringify({ code: 'E1', active: { nested: true } }), { qos: 1 }); // value is an object
    await pub.publishAsync('mes/m1/alarms', JSON.stringify({ code: 'E2', active: true, ts: 'yesterday' }), { qos: 1 }); // ts unreadable
    await pub.publishAsync('mes/m1/alarms', JSON.stringify({ active: true }), { qos: 1 }); // {code} missing
    await pub.publishAsync('mes/m1/alarms', JSON.stringify({ code: 'E3' }), { qos: 1 }); // $.active missing
    await pub.publishAsync('mes/m1/alarms', '{"code": "E4", ', { qos: 1 }); // not JSON
    await pub.publishAsync('mes/m1/alarms', JSON.stringify({ code: 'OK', active: false }), { qos: 1 });
    await h.signal((x) => x.tag === 'packaging/m1/alarm/OK');
    expect(count('wrong-type') - before.wrong).toBe(2);
    expect(count('unmapped') - before.unmapped).toBe(2);
    expect(count('malformed') - before.malformed).toBe(1);
    expect(h.signals.filter((s) => s.tag.startsWith('packaging/m1/')).map((s) => s.tag)).toEqual(['packaging/m1/alarm/OK']);
  });
});
