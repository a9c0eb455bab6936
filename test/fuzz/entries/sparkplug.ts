/**
 * Sparkplug B payloads (protobuf bytes) through a real broker into the host
 * application: valid-but-weird metrics, wrong datatypes, huge arrays and deep
 * templates, bad sequence numbers and timestamps, truncated and garbled bytes.
 */
import { asyncScheduler } from 'rxjs';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { decodePayload, templateMembers, toNumber } from '../../../connectors/mqtt/sparkplug-payload.ts';
import { hostile, isPoisonTime, mutateBytes, poisonTime, toText, type Rng } from '../gen.ts';
import type { Entry } from '../harness.ts';
import { startMqttGateway } from './mqtt-gateway.ts';

const { Payload } = proto.org.eclipse.tahu.protobuf;
type P = Parameters<typeof Payload.encode>[0];
type M = NonNullable<P['metrics']>[number];

const RULES = `
  - { id: alarms, when: { tag: "**/alarm", equals: true }, fault: alarm-stop, priority: P1 }
  - { id: temps, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P2 }`;
const TYPES = ['NBIRTH', 'NDATA', 'DBIRTH', 'DDATA', 'NDEATH', 'DDEATH'] as const;
const VALUE_FIELDS = [
  'intValue',
  'longValue',
  'floatValue',
  'doubleValue',
  'booleanValue',
  'stringValue',
  'bytesValue',
  'datasetValue',
  'templateValue',
  'extensionValue',
];

const birthMetrics = (rng: Rng): M[] => [
  { name: 'bdSeq', datatype: 4, longValue: rng.int(256) },
  { name: 'alarm', alias: 1, datatype: 11, booleanValue: rng.chance(0.5) },
  { name: 'temperature', alias: 2, datatype: 10, doubleValue: 60 + rng.int(40) },
  { name: 'state', alias: 3, datatype: 12, stringValue: 'RUN' },
  { name: 'count', alias: 4, datatype: 3, intValue: rng.int(1000) },
];
const dataMetric = (rng: Rng): M =>
  rng.pick<() => M>([
    () => ({ alias: 1, booleanValue: rng.chance(0.5) }),
    () => ({ alias: 2, doubleValue: 60 + rng.int(40) }),
    () => ({ name: 'temperature', datatype: 10, doubleValue: 60 + rng.int(40) }),
    () => ({ name: 'Motor', datatype: 19, templateValue: { isDefinition: false, metrics: [{ name: 'Current', datatype: 9, floatValue: 3.5 }] } }),
  ])();

/** A deep template: Motor/Motor/.../Current. */
const deepTemplate = (depth: number): M => {
  let m: M = { name: 'Current', datatype: 9, floatValue: 1 };
  for (let i = 0; i < depth; i++) m = { name: 'Motor', datatype: 19, templateValue: { isDefinition: false, metrics: [m] } };
  return m;
};

/** A 64-bit value as protobufjs takes it without the long package (low and high 32 bits), typed as the number it stands for. */
const u64 = (low: number, high: number, unsigned: boolean) => ({ low, high, unsigned }) as unknown as number;
const MAX_U64 = u64(-1, -1, true);
const MINUS_ONE = u64(-1, -1, false);
const MIN_I64 = u64(0, -0x80000000, false);
const big = (t: number) => u64((t % 2 ** 32) | 0, Math.floor(t / 2 ** 32) | 0, false);

const weirdNumber = (rng: Rng): number => rng.pick<number>([NaN, Infinity, -Infinity, -1, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e300, MAX_U64, MIN_I64, MINUS_ONE]);
const weirdTime = (rng: Rng, now: number): number => {
  const t = poisonTime(rng, now);
  return typeof t === 'number' ? (t < 0 || !Number.isSafeInteger(t) ? big(t) : t) : rng.pick([MAX_U64, MINUS_ONE]);
};

/** One structured change of a metric: a hostile name, alias, datatype or value, or a poison time. */
function mutateMetric(rng: Rng, m: M, now: number): string {
  const op = rng.int(8);
  const r = m as Record<string, unknown>;
  if (op === 0)
    m.name = rng.pick([
      '',
      'bdSeq',
      'Node Control/Rebirth',
      '__proto__',
      'constructor',
      'a/b//c',
      'x'.repeat(70_000),
      toText(hostile(rng, now)).slice(0, 1000),
    ]);
  else if (op === 1) m.alias = rng.pick<number>([0, 9999, MAX_U64, MINUS_ONE]);
  else if (op === 2) m.datatype = rng.pick([0, 1, 4, 8, 9, 10, 11, 12, 13, 15, 16, 17, 19, 20, 21, 22, 25, 999, 2 ** 31 - 1]);
  else if (op === 3) {
    for (const f of VALUE_FIELDS) delete r[f];
    const f = rng.pick(['intValue', 'longValue', 'floatValue', 'doubleValue']);
    r[f] = f === 'intValue' || f === 'floatValue' ? rng.pick([NaN, Infinity, 2 ** 31, -1, 1e38]) : weirdNumber(rng);
  } else if (op === 4) {
    for (const f of VALUE_FIELDS) delete r[f];
    r[rng.pick(['stringValue', 'bytesValue', 'booleanValue'])] = rng.pick<unknown>(['', 'x'.repeat(100_000), '\uD800', Buffer.from([0xff, 0]), true]);
  } else if (op === 5) m.timestamp = weirdTime(rng, now);
  else if (op === 6) m.isNull = true;
  else
    m.properties = rng.pick<NonNullable<M['properties']>>([
      { keys: ['Quality'], values: [{ type: 3, intValue: rng.pick([0, 64, 192, 255, 256, -1]) }] },
      { keys: ['Quality', 'x'], values: [] },
      { keys: [], values: [{ type: 3, intValue: 1 }] },
    ]);
  return `metric ${['name', 'alias', 'datatype', 'number', 'text', 'time', 'null', 'properties'][op]}`;
}

function poisonIn(bytes: Buffer, now: number): boolean {
  try {
    const p = decodePayload(bytes);
    const times = [
      p.timestamp,
      ...p.metrics.flatMap((m) => [m, ...templateMembers(m).map(([, x]) => x)]).map((m) => (Object.hasOwn(m, 'timestamp') ? toNumber(m.timestamp) : undefined)),
    ];
    return times.some((t) => t !== undefined && isPoisonTime(t, now));
  } catch {
    return false;
  }
}

export const sparkplugEntry = (): Entry => {
  const now = asyncScheduler.now();
  return {
    name: 'sparkplug',
    generate(rng) {
      const type = rng.pick(TYPES);
      const node = `node-${rng.int(5)}`;
      const device = type.startsWith('D') ? `/dev-${rng.int(3)}` : '';
      let topic = `spBv1.0/fz/${type}/${node}${device}`;
      if (rng.chance(0.05))
        topic = rng.pick([
          `spBv1.0/fz/NFOO/${node}`,
          `spBv1.0/fz/${type}/${node}/a/b`,
          'spBv1.0/fz/NDATA/',
          'spBv1.0/STATE/host',
          `spBv1.0/fz/DDATA/${node}`,
          `spBv1.0/fz/NDATA/n-${rng.int(1e9)}`,
        ]);
      const p: P = {
        timestamp: now - rng.int(60_000),
        seq: rng.int(256),
        metrics: type.endsWith('BIRTH')
          ? birthMetrics(rng)
          : type.endsWith('DEATH')
            ? [{ name: 'bdSeq', datatype: 4, longValue: rng.int(256) }]
            : [dataMetric(rng)],
      };
      const ops: string[] = [];
      const k = rng.int(10);
      if (k < 6) {
        for (let n = 1 + rng.int(3); n > 0; n--) {
          const which = rng.int(6);
          if (which === 0) {
            p.timestamp = rng.chance(0.8) ? weirdTime(rng, now) : null;
            ops.push('payload time');
          } else if (which === 1) {
            p.seq = rng.pick([255, 256, 1000, MAX_U64]);
            ops.push('seq');
          } else if (which === 2) {
            p.metrics?.push(...Array.from({ length: rng.pick([50, 500, 5000]) }, (_, i) => ({ name: `m${i}`, datatype: 10, doubleValue: i })));
            ops.push('many metrics');
          } else if (which === 3) {
            p.metrics?.push(deepTemplate(rng.pick([10, 100, 1000])));
            ops.push('deep template');
          } else ops.push(mutateMetric(rng, rng.pick(p.metrics ?? [{}]), now));
        }
      }
      let data: Buffer;
      try {
        data = Buffer.from(Payload.encode(p).finish());
      } catch (err) {
        data = Buffer.from(`not encodable: ${(err as Error).message}`);
        ops.push('unencodable');
      }
      if (k >= 6 && k < 9) {
        const m = mutateBytes(rng, data);
        data = m.data;
        ops.push(`bytes: ${m.op}`);
      } else if (k === 9) {
        data = Buffer.from(Array.from({ length: rng.pick([0, 1, 10, 1000]) }, () => rng.int(256)));
        ops.push('random bytes');
      }
      return { kind: `${type} ${ops.join(', ') || 'valid'}`, data, poison: poisonIn(data, now), meta: { topic } };
    },
    async start() {
      const m = await startMqttGateway(`[ { topic: "spBv1.0/#", format: sparkplug, qos: 1 } ]`, RULES);
      return {
        send(p) {
          m.pub.publish(p.meta?.topic ?? 'spBv1.0/fz/NDATA/node-0', p.data as Buffer, { qos: 0 });
          return 'published';
        },
        async check(n) {
          const birth = Payload.encode({ timestamp: asyncScheduler.now(), seq: 0, metrics: [{ name: 'alarm', datatype: 11, booleanValue: true }] }).finish();
          await m.pub.publishAsync(`spBv1.0/fz/NBIRTH/chk-${n}`, Buffer.from(birth), { qos: 1 });
          await m.ticket(`chk-${n}/alarm-stop`);
          m.assert();
        },
        outcomes: () => m.outcomes(),
        close: () => m.close(),
      };
    },
  };
};
