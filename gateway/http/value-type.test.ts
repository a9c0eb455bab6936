import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from './fixture.ts';

// Against the real server on 127.0.0.1 (port 0): values of the wrong type for their rule, and units.

let t: Awaited<ReturnType<typeof testApp>>;
let base: string;
let lines: Record<string, unknown>[];

beforeEach(async () => {
  lines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  t = await testApp({ logger: pino({ level: 'info' }, sink) });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(() => t.close());

const post = (body: unknown) =>
  fetch(`${base}/api/v1/signals`, { method: 'POST', headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' }, body: JSON.stringify(body) });
const typeRejects = async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('andon_signals_rejected_total{') && l.includes('reason="type"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};
const typeWarnings = () => lines.filter((l) => l.reason === 'type' && l.level === 40);

describe('POST /api/v1/signals: a value of the wrong type for its rule', () => {
  it('is answered 202 with the signal listed under rejected, counted, and logged once per tag per minute', async () => {
    // `temps` is `above: 80`: a string can never raise it.
    const res = await post([
      { tag: 'oven-1/temperature', value: '92.5' },
      { tag: 'oven-2/temperature', value: 95 },
    ]);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: 1,
      rejected: [{ index: 0, tag: 'oven-1/temperature', reason: 'type', rule: 'temps', message: expect.stringContaining('needs a number value, got string') }],
    });
    // The good one of the same request went in.
    expect(t.store.list({ history: false }).items.map((x) => x.key)).toEqual(['oven-2/overtemp']);
    expect(await typeRejects()).toBe(1);
    expect(typeWarnings()).toHaveLength(1);
    expect(typeWarnings()[0]).toMatchObject({ tag: 'oven-1/temperature', rule: 'temps', expected: 'number', got: 'string', component: 'ingest' });

    // Again within the minute (gateway clock): counted, not logged again; another tag is logged.
    t.clock.advanceTo(t.clock.now() + 59_000);
    await post({ tag: 'oven-1/temperature', value: 'n/a' });
    await post({ tag: 'oven-3/temperature', value: true });
    expect(await typeRejects()).toBe(3);
    expect(typeWarnings().map((l) => l.tag)).toEqual(['oven-1/temperature', 'oven-3/temperature']);
    // A minute after the first line: logged again.
    t.clock.advanceTo(t.clock.now() + 1_000);
    await post({ tag: 'oven-1/temperature', value: 'n/a' });
    expect(typeWarnings().map((l) => l.tag)).toEqual(['oven-1/temperature', 'oven-3/temperature', 'oven-1/temperature']);
    expect(await typeRejects()).toBe(4);
  });

  it('values the rules can use, bad-quality readings, nulls and tags no value rule watches are not rejected', async () => {
    const res = await post([
      { tag: 'oven-1/temperature', value: 20 },
      { tag: 'press-1/alarm', value: 1 }, // equals: true also takes 1
      { tag: 'oven-1/temperature', value: 'n/a', quality: 'bad' },
      { tag: 'oven-1/temperature', value: null },
      { tag: 'line-1/state', value: 'RUN' },
    ]);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 5 });
    expect(await typeRejects()).toBe(0);
    expect(typeWarnings()).toEqual([]);
  });
});

describe('POST /api/v1/signals: units', () => {
  it('a signal\'s unit is kept with the value in the ticket evidence', async () => {
    expect((await post({ tag: 'oven-1/temperature', value: 92.5, unit: '°C' })).status).toBe(202);
    const list = (await (await fetch(`${base}/api/v1/tickets`)).json()) as { items: { id: string }[] };
    const ticket = (await (await fetch(`${base}/api/v1/tickets/${list.items[0]?.id}`)).json()) as { evidence: unknown[] };
    expect(ticket.evidence).toEqual([{ tag: 'oven-1/temperature', value: 92.5, unit: '°C', ts: expect.any(String) }]);
  });

  it('an empty unit is refused like any other malformed field', async () => {
    const res = await post({ tag: 'oven-1/temperature', value: 92.5, unit: '' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('ANDON_SIGNAL_INVALID');
  });
});
