import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { startGateway } from '../gateway/main.ts';

/**
 * Bad input never costs anything else: 10,000 generated bad payloads over
 * HTTP are refused with a code and counted, and a good signal still opens its
 * ticket afterwards.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'ingest-token-bad-input-test';

/** Deterministic generator of broken request bodies of many kinds. */
function* badBodies(n: number): Generator<{ body: string; type: string }> {
  const kinds: ((i: number) => { body: string; type: string })[] = [
    (i) => ({ body: `{"tag": "a/b/c", "value": ${'['.repeat(i % 50)}`, type: 'application/json' }), // truncated JSON
    (i) => ({ body: JSON.stringify({ tag: i, value: true }), type: 'application/json' }), // wrong type
    () => ({ body: JSON.stringify({ value: true }), type: 'application/json' }), // missing tag
    (i) => ({ body: JSON.stringify({ tag: 'a/b/c', value: { nested: i } }), type: 'application/json' }), // object value
    (i) => ({ body: JSON.stringify({ tag: 'a/b/c', value: 1, quality: `q${i}` }), type: 'application/json' }), // bad quality
    (i) => ({ body: JSON.stringify({ tag: 'x'.repeat(600 + (i % 100)), value: 1 }), type: 'application/json' }), // tag too long
    (i) => ({ body: JSON.stringify([{ tag: 'a/b/c', value: 1 }, { tag: null, value: i }]), type: 'application/json' }), // one bad in an array
    () => ({ body: '', type: 'application/json' }), // empty
    (i) => ({ body: Buffer.from([0xff, 0xfe, i % 256, 0]).toString('latin1'), type: 'application/json' }), // binary
    (i) => ({ body: `tag=a/b/c&value=${i}`, type: 'application/x-www-form-urlencoded' }), // wrong media type
    (i) => ({ body: JSON.stringify({ tag: 'a/b/c', value: 1, extra: i }), type: 'application/json' }), // unknown field
    (i) => ({ body: JSON.stringify({ tag: 'a/b/c', value: 'y'.repeat(5000 + i) }), type: 'application/json' }), // value too long
  ];
  for (let i = 0; i < n; i++) yield (kinds[i % kinds.length] as (i: number) => { body: string; type: string })(i);
}

describe('bad input over HTTP', () => {
  it('10,000 bad payloads are refused with codes and counted; a good signal still opens its ticket', async () => {
    const config = parseConfig(`
gateway:
  id: bad-input
  dataDir: ${dir}
  auth: { tokens: [ { name: mes, role: ingest, token: ${TOKEN} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
`);
    const gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
    try {
      const post = (body: string, type: string) =>
        fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body });
      const codes = new Map<string, number>();
      const statuses = new Set<number>();
      const all = [...badBodies(10_000)];
      for (let i = 0; i < all.length; i += 50) {
        const answers = await Promise.all(all.slice(i, i + 50).map((b) => post(b.body, b.type)));
        for (const res of answers) {
          statuses.add(res.status);
          const { code } = (await res.json()) as { code: string };
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
      expect([...statuses].filter((s) => s !== 400 && s !== 415), JSON.stringify([...codes])).toEqual([]);
      expect([...codes.keys()].filter((c) => !/^ANDON_[A-Z_]+$/.test(c))).toEqual([]);
      expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(10_000);

      const metrics = await (await fetch(`${gw.address}/metrics`)).text();
      const rejected = [...metrics.matchAll(/^andon_signals_rejected_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
      expect(rejected).toBe(10_000);
      expect(gw.store.list().total).toBe(0);

      const good = await post(JSON.stringify({ tag: 'press/p-01/alarm/E1', value: true }), 'application/json');
      expect(good.status).toBe(202);
      expect(gw.store.list().items.map((t) => t.key)).toEqual(['p-01/alarm-stop']);
    } finally {
      await gw.stop();
    }
  });
});
