import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { SseReader } from '../../test/sse.ts';
import { createMetrics } from '../metrics.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import type { Ticket } from '../../model/ticket.ts';
import { buildApp } from './app.ts';
import type { EventStreamOptions } from './events.ts';

const CONFIG = `
gateway:
  id: test-gw
  auth:
    anonymousRead: false
    tokens:
      - { name: wang, role: operator, token: operator-token-0123456789 }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "packaging/*/alarm", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
correlation:
  chatter: { count: 1000, within: 1m }
  flood: { count: 100000, within: 10m, per: area }
  recurrence: { count: 3, within: 14d }
`;
const TOKEN = 'operator-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe('GET /api/v1/events (server-sent events)', () => {
  let dir: string;
  let store: TicketStore;
  let runtime: Runtime;
  let app: ReturnType<typeof buildApp>;
  let base: string;
  let slowCuts: number;
  const scheduler = new VirtualScheduler(Date.parse('2026-03-01T08:00:00Z'));
  const readers: SseReader[] = [];

  const start = async (events: EventStreamOptions = {}) => {
    const config = parseConfig(CONFIG);
    store = await TicketStore.open(join(dir, 'andon.sqlite'));
    const registry = new Registry();
    runtime = createRuntime({ config, store, scheduler });
    slowCuts = 0;
    app = buildApp({
      config,
      store,
      runtime,
      registry,
      metrics: createMetrics(registry, store),
      now: () => scheduler.now(),
      ready: () => true,
      events: { ...events, onSlowClient: () => slowCuts++ },
    } as Parameters<typeof buildApp>[0]);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    base = `${address}/api/v1/events`;
  };
  let closed = false;
  const stop = async () => {
    if (!closed) await app.close();
    closed = false;
    runtime.stop();
    await store.close();
  };
  const open = async (query = '', headers: Record<string, string> = AUTH) => {
    const r = await SseReader.open(`${base}${query}`, headers);
    readers.push(r);
    return r;
  };
  const alarm = (asset: string, value: boolean) =>
    runtime.push({ source: 'mes-http', tag: `packaging/${asset}/alarm`, value, quality: 'good', ts: scheduler.now() });
  const ticket = (e: { data: string }) => JSON.parse(e.data) as Ticket & { events: (Ticket['history'][number] & { index: number })[] };
  /** What a stream message carries of the stored ticket now: no history, `membersTotal`, and `events` (its newest `n`, indexed). */
  const streamed = (id: string, n = 20) => {
    const { history, ...doc } = store.get(id) as Ticket;
    return { ...doc, membersTotal: doc.members.length, events: history.map((e, index) => ({ ...e, index })).slice(-n) };
  };
  const lastSeq = () => store.changes.last();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-events-'));
    await start();
  });
  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends retry: 3000 and a change arrives live with its seq as id and the full ticket as data', async () => {
    const r = await open();
    await r.until(() => r.retry !== null);
    expect(r.retry).toBe(3000);
    alarm('m-1', true);
    const e = await r.next();
    expect(e.event).toBe('ticket');
    expect(Number(e.id)).toBe(lastSeq());
    const t = ticket(e);
    // the ticket without its history, and the change's own event with its index
    expect(t).toEqual(streamed(t.id, 1));
    expect(t).not.toHaveProperty('history');
    expect(t).toMatchObject({ key: 'm-1/alarm-stop', version: 1, events: [{ action: 'opened', index: 0 }] });

    alarm('m-1', false);
    const cleared = await r.next();
    expect(Number(cleared.id)).toBeGreaterThan(Number(e.id));
    expect(ticket(cleared)).toMatchObject({ version: 2, condition: 'cleared' });
    expect(ticket(cleared).events.map((h) => [h.index, h.action])).toEqual([[1, 'cleared']]);
  });

  const streamKey = async (headers: Record<string, string> = AUTH) => {
    const res = await fetch(`${base}/key`, { method: 'POST', headers });
    return { status: res.status, body: (await res.json()) as { key: string; expiresAt: string; code?: string } };
  };

  it('a browser opens it with a stream key (EventSource sends no headers): single use, expires, never the token in the URL', async () => {
    const { status, body } = await streamKey();
    expect(status).toBe(200);
    expect(body.key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Date.parse(body.expiresAt)).toBe(scheduler.now() + 60_000);
    const r = await open(`?key=${body.key}`, {});
    alarm('m-1', true);
    expect((await r.next()).event).toBe('ticket');
    // Used once: a copy from a proxy's access log opens nothing.
    await expect(SseReader.open(`${base}?key=${body.key}`, {})).rejects.toThrow(/401.*ANDON_AUTH_REQUIRED/);
    // Unused but older than 60 s.
    const late = (await streamKey()).body.key;
    scheduler.advanceTo(scheduler.now() + 60_001);
    await expect(SseReader.open(`${base}?key=${late}`, {})).rejects.toThrow(/401.*ANDON_AUTH_REQUIRED/);
    // The token itself is no longer taken in the URL.
    await expect(SseReader.open(`${base}?token=${TOKEN}`, {})).rejects.toThrow(/40[01]/);
    await expect(SseReader.open(base, {})).rejects.toThrow(/401.*ANDON_AUTH_REQUIRED/);
    expect((await streamKey({})).status).toBe(401); // a key needs what the stream needs
    await expect(SseReader.open(base, { ...AUTH, 'last-event-id': 'abc' })).rejects.toThrow(/400.*ANDON_REQUEST_INVALID/);
  });

  it('a reconnect with Last-Event-ID gets each missed ticket once, as it is now, in seq order, then live', async () => {
    const first = await open();
    alarm('m-1', true);
    const seen = await first.next();
    first.close();
    await first.ended;

    // While away: m-1 changes twice, m-2 and m-3 open, then m-2 changes again.
    alarm('m-1', false);
    alarm('m-2', true);
    alarm('m-1', true);
    alarm('m-3', true);
    alarm('m-2', false);

    const again = await open('', { ...AUTH, 'last-event-id': seen.id! });
    const backlog = [await again.next(), await again.next(), await again.next()];
    expect(backlog.map((e) => ticket(e).key)).toEqual(['m-1/alarm-stop', 'm-3/alarm-stop', 'm-2/alarm-stop']);
    for (const e of backlog) {
      const t = ticket(e);
      expect(t).toEqual(streamed(t.id));
    }
    const ids = backlog.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[2]).toBe(lastSeq());

    alarm('m-3', false);
    const live = await again.next();
    expect(ticket(live)).toMatchObject({ key: 'm-3/alarm-stop', condition: 'cleared' });
    expect(Number(live.id)).toBe(lastSeq());
    await new Promise((r) => setImmediate(r));
    expect(again.events).toHaveLength(4);

    // The query form resumes the same way, and ids survive a restart of the gateway.
    again.close();
    await stop();
    await start();
    const after = await open(`?lastEventId=${ids[0]}`);
    const resumed = [await after.next(), await after.next()];
    expect(resumed.map((e) => ticket(e).key)).toEqual(['m-2/alarm-stop', 'm-3/alarm-stop']);
    alarm('m-4', true);
    expect(Number((await after.next()).id)).toBe(lastSeq());
  });

  it('changes committed while a long backlog is being sent arrive once, in id order, with nothing lost', async () => {
    for (let i = 0; i < 400; i++) alarm(`m-${i}`, true);
    const r = await open('', { ...AUTH, 'last-event-id': '0' });
    // The server is replaying (it yields whenever the socket's buffer is full); keep committing
    // changes to tickets before and after the replay's position, one per turn of the event loop.
    for (let k = 0; k < 200; k++) {
      await new Promise((res) => setImmediate(res));
      alarm(`m-${(k * 37) % 400}`, k % 3 !== 0);
    }
    alarm('m-400', true);
    await r.until(() => r.events.some((e) => ticket(e).key === 'm-400/alarm-stop'), 10_000, 'the last change');
    const ids = r.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const versions = r.events.map((e) => `${ticket(e).key}@${ticket(e).version}`);
    expect(new Set(versions).size).toBe(versions.length);
    // Each ticket's last message is the ticket as stored now.
    const last = new Map(r.events.map((e) => [ticket(e).id, ticket(e)]));
    expect(last.size).toBe(401);
    for (const [id, t] of last) {
      const { events, ...rest } = t;
      const { events: _now, ...expected } = streamed(id);
      expect(rest).toEqual(expected);
      expect(events.at(-1)?.index).toBe(t.version - 1);
    }
  });

  it('sends one reset (with the current id) when more tickets changed than a resume replays, then goes live', async () => {
    await stop();
    await start({ maxBacklog: 3 });
    for (let i = 0; i < 5; i++) alarm(`m-${i}`, true);
    const r = await open('?lastEventId=0');
    const reset = await r.next();
    expect(reset).toEqual({ id: String(lastSeq()), event: 'reset', data: '{}' });
    alarm('m-9', true);
    expect(ticket(await r.next()).key).toBe('m-9/alarm-stop');

    const ok = await open(`?lastEventId=${lastSeq() - 3}`);
    expect((await ok.next()).event).toBe('ticket');
  });

  it('a fresh connection learns the current id, so a plain EventSource resumes without a gap', async () => {
    alarm('m-1', true);
    const r = await open();
    await r.until(() => r.lastEventId !== null);
    expect(r.lastEventId).toBe(String(lastSeq()));
    expect(r.events).toHaveLength(0);
  });

  it('pings every pingMs', async () => {
    await stop();
    await start({ pingMs: 20 });
    const r = await open();
    await r.until(() => r.comments.includes('ping'), 2000, 'a ping');
  });

  it('a client that falls behind gets the newest version of a busy ticket, not every one, and stays connected', async () => {
    const slow = await open();
    const fast = await open();
    await slow.until(() => slow.retry !== null);
    slow.pause();
    // A chattering alarm on one ticket: what waits for the slow client is one message, replaced by each newer one.
    let n = 0;
    for (; n < 3000; n++) alarm('m-1', n % 2 === 0);
    const last = String(lastSeq());
    await fast.until(() => fast.events.at(-1)?.id === last, 20_000, 'the fast client to catch up');
    slow.resume();
    await slow.until(() => slow.events.at(-1)?.id === last, 20_000, 'the slow client to catch up');
    expect(slowCuts).toBe(0);
    for (const r of [slow, fast]) {
      const ids = r.events.map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(ticket(r.events.at(-1)!)).toMatchObject({ version: n });
    }
    expect(slow.events.length).toBeLessThan(n);
  });

  it('cuts off a client that falls too far behind without affecting the others', async () => {
    await stop();
    await start({ maxBufferBytes: 256 * 1024 });
    const slow = await open();
    const fast = await open();
    slow.pause();
    // Many tickets changing: each waits for the slow client on its own, until they outgrow the socket buffers and its bound.
    let n = 0;
    const text = 'x'.repeat(4000);
    while (slowCuts === 0 && n < 3000) {
      runtime.push({ source: 'mes-http', tag: `packaging/m-${n}/alarm`, value: true, quality: 'good', ts: scheduler.now(), message: text });
      n++;
      await fast.until(() => fast.events.length === n, 10_000, 'the fast client to keep up');
    }
    expect(slowCuts).toBe(1);
    console.log(`slow client cut off after ${n} changes (${fast.events.reduce((a, e) => a + e.data.length, 0)} bytes sent to the fast one)`);
    alarm('z-2', true);
    await fast.until(() => fast.events.length === n + 1, 10_000, 'the fast client to get everything');
    expect(fast.events.map((e) => Number(e.id))).toEqual(Array.from({ length: n + 1 }, (_, i) => lastSeq() - n + i));
    slow.resume();
    await slow.ended;
    expect(slow.events.length).toBeLessThan(n);
    expect(slow.events.some((e) => ticket(e).key === 'z-2/alarm-stop')).toBe(false);
  });

  it('app.close() ends every open stream promptly', async () => {
    const a = await open();
    const b = await open('?lastEventId=0');
    await a.until(() => a.retry !== null);
    await b.until(() => b.retry !== null);
    const t0 = performance.now();
    await app.close();
    closed = true;
    await Promise.all([a.ended, b.ended]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
