/**
 * Generators of hostile payloads for the fuzz entries: a seeded PRNG, hostile
 * values, structured mutation of a valid JSON value and byte-level mutation.
 * Everything is a function of the seed, so a failure prints seed and index
 * and the same payload comes back with `npm run fuzz -- --seed S --only E --from I --count 1`.
 */
import { seeded } from '../../gateway/seeded.ts';

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seeded(seed);
  }
  /** 0..n-1 */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed of payload `i` of `entry`: payloads are independent of each other, so one can be regenerated alone. */
export function payloadSeed(seed: number, entry: string, i: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${entry}:${i}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** One generated payload: the bytes sent, how it was made, and whether it carries a poison timestamp. */
export interface Payload {
  kind: string;
  data: string | Buffer;
  /** A timestamp that is non-finite, before 2000-01-01 or far ahead: refused or replaced once entry points validate time. */
  poison: boolean;
  /** Extra routing (topic, ticket id, content type) the entry needs. */
  meta?: Record<string, string>;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const Y2000 = Date.UTC(2000, 0, 1);
export const DAY = 86_400_000;

/** Times that must never become a ticket's time: the values helper validation refuses (or replaces by arrival time). */
export function poisonTime(rng: Rng, now: number): Json {
  return rng.pick<() => Json>([
    () => 1e300,
    () => -1e300,
    () => -1,
    () => 0,
    () => Y2000 - 1,
    () => 8.64e15 + 1,
    () => Number.MAX_SAFE_INTEGER,
    () => 2 ** 63,
    () => now + 365 * DAY,
    () => now + 100 * 365 * DAY,
    () => '99999999999999999999',
    () => '1e300',
    () => '-1',
    () => '1970-01-01T00:00:00Z',
    () => '1999-12-31T23:59:59.999Z',
    () => '9999-12-31T23:59:59Z',
    () => '+275760-09-13T00:00:00.000Z',
    () => '-271821-04-20T00:00:00.000Z',
    () => new Date(now + 30 * DAY).toISOString(),
  ])();
}

/** Whether `v`, read as a time the lenient way (number, numeric string, any date string), is a poison time. */
export function isPoisonTime(v: unknown, now: number, skew = DAY): boolean {
  let t: number;
  if (typeof v === 'number') t = v;
  else if (typeof v === 'string') t = /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(v) ? Number(v) : Date.parse(v);
  else return false;
  if (typeof v === 'string' && Number.isNaN(t)) return false; // not a time at all: refused as a wrong type
  return !Number.isFinite(t) || t < Y2000 || t > now + skew;
}

/** Whether any of `keys` in the JSON value (top level or items of a top-level array) holds a poison time. */
export function hasPoisonTime(v: unknown, keys: readonly string[], now: number): boolean {
  const items = Array.isArray(v) ? v : [v];
  return items.some(
    (o) =>
      o !== null && typeof o === 'object' && !Array.isArray(o) && keys.some((k) => Object.hasOwn(o, k) && isPoisonTime((o as Record<string, unknown>)[k], now)),
  );
}

const UNICODE = ['\u0000', '\uD800', '\uDFFF', '\uFEFF', '\u202E', '\u200B', 'ß', '工位', '😀', 'e\u0301', '\n', '\r\n', '\t', '\\', '"', '\u2028'];
const TEXTS = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e300',
  '-1',
  'null',
  'true',
  'undefined',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
];
const PATHS = [
  '/',
  'a//b',
  'a/+/#',
  '**',
  '*',
  '../../etc/passwd',
  '$.value',
  '{1}',
  '{{code}}',
  '${HOME}',
  '%s%n%x',
  '<script>alert(1)</script>',
  "'; DROP TABLE tickets; --",
];
const TIME_TEXTS = [
  '2026-03-02T08:00:00Z',
  '2026-13-45T99:99:99Z',
  '2026-02-30T00:00:00Z',
  'yesterday',
  '1',
  '0',
  '12',
  'Tue, 03 Mar 2026 08:00:00 GMT',
  '2026-03-02',
];

/** A value that does not belong where it is put. `depth` bounds nesting of generated containers. */
export function hostile(rng: Rng, now: number, depth = 0): Json {
  const k = rng.int(depth > 2 ? 6 : 9);
  switch (k) {
    case 0:
      return rng.pick([1e300, -1e300, -1, 0, -0, 1e-300, 5e-324, 2 ** 53 + 1, Number.MAX_VALUE, 0.1, 1e21, 4294967296, -2147483649, 255, 256, 1000, 1001]);
    case 1:
      return rng.pick(TEXTS);
    case 2:
      return rng.pick(UNICODE).repeat(1 + rng.int(rng.chance(0.1) ? 5000 : 8)) + rng.pick(['', 'x', 'alarm']);
    case 3:
      return rng.pick(PATHS);
    case 4:
      return rng.chance(0.5) ? rng.pick(TIME_TEXTS) : poisonTime(rng, now);
    case 5:
      return rng.pick([null, true, false, 'x'.repeat(rng.pick([513, 1001, 4097, 70_000, 300_000]))]);
    case 6:
      return rng.pick<() => Json>([() => [], () => ({}), () => [hostile(rng, now, depth + 1)], () => ({ [rng.pick(TEXTS)]: hostile(rng, now, depth + 1) })])();
    case 7:
      return deep(rng.pick([10, 100, 1000, 5000]), rng.chance(0.5));
    default:
      return Array.from({ length: rng.chance(0.05) ? 10_000 : rng.pick([10, 100]) }, (_, i) => (i % 2 ? i : 'v'));
  }
}

/** Nesting `n` deep: [[[...]]] or {"a":{"a":...}}. */
export function deep(n: number, arrays: boolean): Json {
  let v: Json = 1;
  for (let i = 0; i < n; i++) v = arrays ? [v] : { a: v };
  return v;
}

/** Own-property keys that pollute prototypes when merged carelessly (JSON.parse keeps them as own properties). */
export const POLLUTING = JSON.parse(
  '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "prototype": {"polluted": "yes"}}',
) as Record<string, Json>;

/**
 * Structured mutation of a valid object: 1-3 of replace a field (one of `fields`
 * or any present) with a hostile value, delete one, add an unknown or polluting
 * key, wrap in an array or object, or swap the whole for a hostile value.
 * `timeFields` replaced get a poison time half the time.
 */
export function mutate(
  rng: Rng,
  valid: Record<string, Json>,
  fields: readonly string[],
  timeFields: readonly string[],
  now: number,
): { value: Json; op: string } {
  let v: Json = JSON.parse(JSON.stringify(valid)) as Json;
  const ops: string[] = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const o = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
    const op = rng.int(10);
    if (o && op < 5) {
      const f = rng.chance(0.8) ? rng.pick(fields) : rng.pick(Object.keys(o).concat(fields));
      o[f] = timeFields.includes(f) && rng.chance(0.5) ? poisonTime(rng, now) : hostile(rng, now);
      ops.push(`set ${f}`);
    } else if (o && op === 5) {
      const f = rng.pick(fields);
      delete o[f];
      ops.push(`delete ${f}`);
    } else if (o && op === 6) {
      const k = rng.pick(Object.keys(POLLUTING));
      Object.defineProperty(o, k, { value: POLLUTING[k], enumerable: true, writable: true, configurable: true });
      ops.push(`add ${k}`);
    } else if (o && op === 7) {
      o[rng.pick(['extra', 'x', '', ' tag', 'TAG', 'value '])] = hostile(rng, now);
      ops.push('add unknown');
    } else if (op === 8) {
      // The same item many times (shared, not copied), at most about 2 MB of text.
      const item = v;
      const n = Math.min(rng.pick([0, 1, 2, 50, 2000]), Math.floor(2_000_000 / (toText(item).length + 1)));
      v = rng.chance(0.7) ? Array.from({ length: n }, () => item) : { payload: item };
      ops.push('wrap');
    } else {
      v = hostile(rng, now);
      ops.push('replace all');
    }
  }
  return { value: v, op: ops.join(', ') };
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x0a, 0xc0, 0xef, 0xbb, 0xbf, 0x30, 0x39, 0x2d, 0x2e, 0x65];
const TOKENS = [
  'NaN',
  'Infinity',
  '-',
  '1e999',
  '\\ud800',
  '\\u0000',
  '"',
  '{',
  '[',
  ']',
  '}',
  ',',
  ':',
  'null',
  '0x10',
  '\u00ff',
  '\n',
  '99999999999999999999',
];

/** Byte-level mutation: flips, interesting bytes, inserts, deletes, truncation, duplication, token splices. */
export function mutateBytes(rng: Rng, input: Buffer): { data: Buffer; op: string } {
  let b = Buffer.from(input);
  const ops: string[] = [];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    const op = rng.int(8);
    if (op === 0 && b.length > 0) {
      b[at] = (b[at] as number) ^ (1 << rng.int(8));
      ops.push('flip');
    } else if (op === 1 && b.length > 0) {
      b[at] = rng.pick(INTERESTING);
      ops.push('byte');
    } else if (op === 2) {
      b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rng.int(8) }, () => rng.int(256))), b.subarray(at)]);
      ops.push('insert');
    } else if (op === 3) {
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(16))]);
      ops.push('delete');
    } else if (op === 4) {
      b = b.subarray(0, at);
      ops.push('truncate');
    } else if (op === 5) {
      const len = 1 + rng.int(Math.max(1, b.length - at));
      b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
      ops.push('duplicate');
    } else if (op === 6 && b.length > 0) {
      const digit = b.indexOf(rng.pick([0x30, 0x31, 0x32, 0x37, 0x39]), at);
      if (digit >= 0) b[digit] = 0x30 + rng.int(10);
      ops.push('digit');
    } else {
      b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(TOKENS)), b.subarray(at)]);
      ops.push('token');
    }
  }
  return { data: b, op: ops.join(', ') };
}

/** JSON text of a value; `null` when it cannot be written (too deep for JSON.stringify). */
export function toText(v: Json): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return '[[[[[[[[[[';
  }
}

/** The JSON value of `data`, or undefined when it is not JSON. */
export function parseJson(data: string | Buffer): unknown {
  try {
    return JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A short printable form of a payload for failure reports. */
export function preview(data: string | Buffer, max = 400): string {
  if (typeof data !== 'string') {
    const text = data.toString('utf8');
    const printable = ![...text].some((c) => c === '\ufffd' || (c < ' ' && !'\t\n\r'.includes(c)));
    if (!printable) return `base64:${data.subarray(0, max).toString('base64')}${data.length > max ? `… (${data.length} bytes)` : ''}`;
    data = text;
  }
  return data.length > max ? `${JSON.stringify(data.slice(0, max))}… (${data.length} chars)` : JSON.stringify(data);
}
