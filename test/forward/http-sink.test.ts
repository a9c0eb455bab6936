import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../gateway/delivery/timed-fetch.ts';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import { ForwardError, type ForwardedTicket } from '../../gateway/forward/sink.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';

const TOKEN = 'central-token-for-sink-test';
const ticket = (id: string, version: number) => ({ id, version, key: `${id}/alarm-stop`, state: 'open', history: [], historyFrom: 0 }) as unknown as ForwardedTicket;
const signal = () => AbortSignal.timeout(5_000);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a ForwardError');
    },
    (e: unknown) => {
      if (!(e instanceof ForwardError)) throw e;
      return { kind: e.kind, status: e.status, retryAfterMs: e.retryAfterMs, ref: e.ref };
    },
  );

describe('http sink (contracts §Central API) against the reference central', () => {
  let central: Central;
  let sink: ReturnType<typeof createHttpSink>;
  beforeEach(async () => {
    central = await startCentral({ token: TOKEN });
    sink = createHttpSink({ url: `${central.url}/`, token: TOKEN, timeout: 300 });
  });
  afterEach(() => central.stop());

  it('PUTs the ticket with bearer token and idempotency key; 201 then 200 give central\'s ref', async () => {
    expect(await sink.put(ticket('T1', 1), signal())).toEqual({ id: 'C-000001', url: `${central.url}/tickets/T1`, version: 1 });
    expect(await sink.put(ticket('T1', 2), signal())).toEqual({ id: 'C-000001', url: `${central.url}/tickets/T1`, version: 2 });
    expect(central.tickets().get('T1')?.version).toBe(2);
  });

  it('the same version twice is one effect, answered the same', async () => {
    const a = await sink.put(ticket('T1', 1), signal());
    const b = await sink.put(ticket('T1', 1), signal());
    expect(b).toEqual(a);
    expect(central.stats()).toMatchObject({ puts: 2, effective: 1, replays: 1 });
  });

  it('409 when central holds a newer version is a conflict with central\'s ref', async () => {
    await sink.put(ticket('T1', 3), signal());
    expect(await failure(sink.put(ticket('T1', 2), signal()))).toEqual({ kind: 'conflict', status: 409, retryAfterMs: undefined, ref: { id: 'C-000001', url: `${central.url}/tickets/T1`, version: 3 } });
  });

  it('409 CENTRAL_HISTORY_GAP (central lacks events before historyFrom) is a retry at once, its ref saying how many events central holds', async () => {
    await sink.put(ticket('T1', 1), signal()); // no events
    const delta = { ...ticket('T1', 3), historyFrom: 2, history: [{ at: '2026-03-02T06:00:00.000Z', action: 'ack', by: 'li', index: 2 }] } as ForwardedTicket;
    expect(await failure(sink.put(delta, signal()))).toEqual({ kind: 'retry', status: 409, retryAfterMs: 0, ref: { id: 'C-000001', url: `${central.url}/tickets/T1`, version: 0 } });
    expect(await failure(sink.put({ ...delta, id: 'T9', history: [] }, signal()))).toMatchObject({ kind: 'retry', ref: { id: '', url: null, version: 0 } }); // a ticket central lost
  });

  it('429 is retried after Retry-After; 5xx, a dropped connection and a timeout are retried', async () => {
    central.setFaults({ status429: { p: 1, retryAfterS: 7 } });
    expect(await failure(sink.put(ticket('T1', 1), signal()))).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 7_000 });
    central.setFaults({ status5xx: 1 });
    expect(await failure(sink.put(ticket('T1', 1), signal()))).toMatchObject({ kind: 'retry', status: 503 });
    central.setFaults({ dropConnection: 1 });
    expect(await failure(sink.put(ticket('T1', 1), signal()))).toMatchObject({ kind: 'retry', status: undefined });
    central.setFaults({ timeoutMs: 2_000 });
    expect(await failure(sink.put(ticket('T1', 1), signal()))).toMatchObject({ kind: 'retry', status: undefined });
    expect(central.stats().effective).toBe(0);
  });

  it('a connection refused is retried', async () => {
    await central.pause();
    expect(await failure(sink.put(ticket('T1', 1), signal()))).toMatchObject({ kind: 'retry' });
    await central.resume();
    expect((await sink.put(ticket('T1', 1), signal())).version).toBe(1);
  });

  it('other 4xx are poison: a refused ticket, a wrong token', async () => {
    central.setFaults({ poison: ['T1'] });
    expect(await failure(sink.put(ticket('T1', 1), signal()))).toMatchObject({ kind: 'poison', status: 422 });
    const wrong = createHttpSink({ url: central.url, token: 'not-the-token', timeout: 300 });
    expect(await failure(wrong.put(ticket('T2', 1), signal()))).toMatchObject({ kind: 'poison', status: 401 });
  });

  it('an abort by the caller surfaces as the abort itself, not as a retry', async () => {
    central.setFaults({ slowMs: 2_000 });
    const ac = new AbortController();
    const p = sink.put(ticket('T1', 1), ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('changes(null) starts from now; later calls return what people changed at central, then nothing', async () => {
    await sink.put(ticket('T1', 1), signal());
    central.act('T1', 'ack', 'before-we-looked');
    const first = await sink.changes!(null, signal());
    expect(first.changes).toEqual([]);
    central.act('T1', 'assign', 'li', { assignee: 'li' });
    central.act('T1', 'resolve', 'li', { resolution: 'replaced fuse', rootCause: 'worn fuse' });
    const second = await sink.changes!(first.cursor, signal());
    expect(second.changes).toMatchObject([
      { ticketId: 'T1', action: 'assign', by: 'li', fields: { assignee: 'li' } },
      { ticketId: 'T1', action: 'resolve', by: 'li' },
    ]);
    expect(await sink.changes!(second.cursor, signal())).toEqual({ changes: [], cursor: second.cursor });
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2026-03-02T06:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Mon, 02 Mar 2026 06:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 02 Mar 2026 05:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
