/**
 * Bad inputs the soak mixes into the load, over HTTP and MQTT: malformed JSON,
 * wrong types, huge messages, unknown fields and (unless --no-poison) poison
 * timestamps. Each says what the gateway should do with it: `refuse` (HTTP 4xx,
 * MQTT counted in andon_signals_rejected_total), `accept` (a signal like any
 * other), or `either` (refused or accepted, never a 5xx and never a stall).
 */

export type Expect = 'refuse' | 'accept' | 'either';

export interface BadInput {
  channel: 'http' | 'mqtt';
  kind: string;
  expect: Expect;
  /** The request body or MQTT payload. */
  body: string;
  /** A poison timestamp on a raise of an `alarm/poison` tag: the same tag is cleared right after. */
  poisonTag?: string;
}

/** Timestamps no plant clock should send (epoch ms, except the string). */
export const POISON_TS: { kind: string; ts: number | string }[] = [
  { kind: 'ts-1e300', ts: 1e300 },
  { kind: 'ts-negative', ts: -1 },
  { kind: 'ts-garbage', ts: 'yesterday-ish' },
  { kind: 'ts-beyond-date-range', ts: 8.7e15 },
  { kind: 'ts-year-2200', ts: Date.UTC(2200, 0, 1) },
];

const HUGE_HTTP = 2 * 1024 * 1024; // over gateway.http.bodyLimit (1 MiB)
const HUGE_MQTT = 512 * 1024; // over the MQTT source's maxMessageBytes (256 KiB)

/**
 * The catalogue, in the order the load sends it (round robin). `analogTag` is a
 * real telemetry tag; `poisonTag(channel)` names a poison tag of that channel's assets.
 */
export function catalogue(o: { analogTag: string; analogValue: number; poison: boolean; poisonTag: (ch: 'http' | 'mqtt') => string }): (() => BadInput)[] {
  const t = o.analogTag;
  const both = (kind: string, expect: Expect, body: () => string): (() => BadInput)[] => [
    () => ({ channel: 'http', kind, expect, body: body() }),
    () => ({ channel: 'mqtt', kind, expect, body: body() }),
  ];
  const list: (() => BadInput)[] = [
    ...both('malformed-json', 'refuse', () => `{"tag":"${t}","value":tru`),
    ...both('value-object', 'refuse', () => JSON.stringify({ tag: t, value: { nested: [1, 2, 3] } })),
    ...both('tag-number', 'refuse', () => JSON.stringify({ tag: 42, value: 1 })),
    () => ({ channel: 'http', kind: 'huge', expect: 'refuse', body: JSON.stringify({ tag: t, value: o.analogValue, message: 'x'.repeat(HUGE_HTTP) }) }),
    () => ({ channel: 'mqtt', kind: 'huge', expect: 'refuse', body: JSON.stringify({ tag: t, value: o.analogValue, pad: 'x'.repeat(HUGE_MQTT) }) }),
    // HTTP bodies are schema-checked (additionalProperties: false); MQTT mappings read only what they map.
    () => ({ channel: 'http', kind: 'unknown-field', expect: 'refuse', body: JSON.stringify({ tag: t, value: o.analogValue, colour: 'green' }) }),
    () => ({
      channel: 'mqtt',
      kind: 'unknown-field',
      expect: 'accept',
      body: JSON.stringify({ tag: t, value: o.analogValue, colour: 'green', extra: { a: [1] } }),
    }),
    () => ({
      channel: 'http',
      kind: 'too-many-items',
      expect: 'refuse',
      body: JSON.stringify(Array.from({ length: 10_001 }, () => ({ tag: t, value: o.analogValue }))),
    }),
  ];
  if (o.poison) {
    for (const p of POISON_TS) {
      for (const channel of ['http', 'mqtt'] as const) {
        list.push(() => {
          const tag = o.poisonTag(channel);
          const msg = channel === 'http' ? 'message' : 'msg';
          return {
            channel,
            kind: `poison-${p.kind}`,
            expect: 'either',
            poisonTag: tag,
            body: JSON.stringify({ tag, value: true, ts: p.ts, [msg]: 'soak-poison' }),
          };
        });
      }
    }
  }
  return list;
}
