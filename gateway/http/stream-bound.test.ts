import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import type { Signal } from '../../rules/types.ts';
import { SseReader } from '../../test/sse.ts';
import { ticketDoc } from '../../test/ticket-fixture.ts';
import { createMetrics } from '../metrics.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import type { TicketDoc } from '../../model/ticket.ts';
import { buildApp } from './app.ts';
import { MAX_MESSAGE_BYTES, STREAM_MEMBERS, ticketMessage } from './stream-ticket.ts';

const TOKEN = 'operator-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CONFIG = `
gateway:
  id: test-gw
  auth:
    tokens:
      - { name: wang, role: operator, token: ${TOKEN} }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "packaging/*/alarm", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
correlation:
  chatter: { count: 100000, within: 1m }
  flood: { count: 3, within: 1h, per: area }
`;
/** Raises in the flood: each one a new version of the one flood ticket. */
const RAISES = 10_000;
/** Assets with long names, so the flood's 500 members alone are far over the bound. */
const asset = (i: number) => `press-${String(i).padStart(4, '0')}-${'x'.repeat(140)}`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const json = async (res: Response): Promise<Json> => res.json();
const bytes = (e: { id?: string | null; event?: string | null; data: string }) => Buffer.byteLength(`id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`);

describe('a 10k-raise alarm flood through the event stream', () => {
  let dir: string;
  let store: TicketStore;
  let runtime: Runtime;
  let app: ReturnType<typeof buildApp>;
  let base: string;
  let slowCuts = 0;
  const scheduler = new VirtualScheduler(Date.parse('2026-03-01T08:00:00Z'));
  let live: SseReader;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-bound-'));
    const config = parseConfig(CONFIG);
    store = await TicketStore.open(join(dir, 'andon.sqlite'));
    const registry = new Registry();
    runtime = createRuntime({ config, store, scheduler });
    app = buildApp({
      config,
      store,
      runtime,
      registry,
      metrics: createMetrics(registry, store),
      now: () => scheduler.now(),
      ready: () => true,
      events: { onSlowClient: () => slowCuts++ },
    } as Parameters<typeof buildApp>[0]);
    base = `${await app.listen({ host: '127.0.0.1', port: 0 })}`;
    live = await SseReader.open(`${base}/api/v1/events`, AUTH);
    await live.until(() => live.retry !== null);
    // 600 machines raise and clear in turn, each raise with a 1,000-character message: 10k raises, group-committed 250 signals at a time.
    const message = 'seal jaw temperature out of range; '.repeat(30).slice(0, 1000);
    let raised = 0;
    for (let round = 0; raised < RAISES; round++) {
      const batch: Signal[] = [];
      for (let i = 0; i < 600 && raised < RAISES; i++, raised++) {
        batch.push({ source: 'mes-http', tag: `packaging/${asset(i)}/alarm`, value: true, quality: 'good', ts: scheduler.now(), message });
        if (batch.length === 250) runtime.pushMany(batch.splice(0));
      }
      runtime.pushMany(batch.splice(0));
      for (let i = 0; i < 600; i++) batch.push({ source: 'mes-http', tag: `packaging/${asset(i)}/alarm`, value: false, quality: 'good', ts: scheduler.now() });
      runtime.pushMany(batch);
      scheduler.advanceTo(scheduler.now() + 1000);
      // The gateway takes its turns between HTTP batches; the client reads as it goes (a live board).
      const last = String(store.changes.last());
      await live.until(() => live.events.at(-1)?.id === last, 30_000, 'the client to keep up');
    }
  }, 180_000);

  afterAll(async () => {
    live.close();
    await app.close();
    runtime.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const flood = () => store.list({ fault: 'alarm-flood', history: false }).items[0] as TicketDoc;

  it('the client stays connected and ends with every ticket as it is now; no message is over 64 KiB', async () => {
    const f = flood();
    expect(f.members).toHaveLength(500);
    // every raise counted; those of one batch share a version (group commit)
    expect(f.occurrences).toBeGreaterThanOrEqual(RAISES);
    expect(f.version).toBeGreaterThan(20);
    await live.until(() => live.events.some((e) => JSON.parse(e.data).id === f.id && JSON.parse(e.data).version === f.version), 60_000, 'the flood ticket\'s last version');
    expect(slowCuts).toBe(0);
    // a burst faster than the socket: changes of one ticket that wait are replaced by its newest one
    expect(live.events.length).toBeGreaterThan(0);
    const largest = Math.max(...live.events.map(bytes));
    console.log(`${live.events.length} messages, the largest ${largest} bytes`);
    expect(largest).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const last = JSON.parse(live.events.findLast((e) => JSON.parse(e.data).id === f.id)!.data);
    expect(last).toMatchObject({ version: f.version, membersTotal: 500, events: [{ index: f.version - 1, action: 'occurrence' }] });
    expect(last.members).toEqual(f.members.slice(-STREAM_MEMBERS));
  });

  it('a resume through the flood is bounded too, and brings the newest events', async () => {
    const r = await SseReader.open(`${base}/api/v1/events?lastEventId=0`, AUTH);
    try {
      const f = flood();
      await r.until(() => r.events.some((e) => JSON.parse(e.data).id === f.id), 30_000, 'the flood ticket');
      for (const e of r.events) expect(bytes(e)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const m = JSON.parse(r.events.find((e) => JSON.parse(e.data).id === f.id)!.data);
      expect(m.events.map((e: { index: number }) => e.index)).toEqual(Array.from({ length: 20 }, (_, i) => f.version - 20 + i));
    } finally {
      r.close();
    }
  });

  it('GET /api/v1/tickets pages without history; ?include=history adds it; one ticket and /history have it all', async () => {
    const list = await json(await fetch(`${base}/api/v1/tickets`, { headers: AUTH }));
    expect(list.items.length).toBeLessThanOrEqual(100);
    expect(list.items.every((t: object) => !('history' in t))).toBe(true);
    const f = flood();
    const withHistory = await json(await fetch(`${base}/api/v1/tickets?include=history&limit=1000`, { headers: AUTH }));
    expect(withHistory.items.find((t: { id: string }) => t.id === f.id).history).toHaveLength(f.version);
    const one = await json(await fetch(`${base}/api/v1/tickets/${f.id}`, { headers: AUTH }));
    expect(one.history).toHaveLength(f.version);
    expect(one.members).toHaveLength(500);

    // the history in pages: oldest first with after, newest first with before; next chains them
    const seen: number[] = [];
    for (let after: number | null = -1; after !== null; ) {
      const page: Json = await json(await fetch(`${base}/api/v1/tickets/${f.id}/history?after=${after}&limit=1000`, { headers: AUTH }));
      expect(page.total).toBe(f.version);
      seen.push(...page.items.map((e: { index: number }) => e.index));
      after = page.next;
    }
    expect(seen).toEqual(Array.from({ length: f.version }, (_, i) => i));
    const newest = await json(await fetch(`${base}/api/v1/tickets/${f.id}/history?before=${f.version}&limit=3`, { headers: AUTH }));
    expect(newest.items.map((e: { index: number }) => e.index)).toEqual([f.version - 1, f.version - 2, f.version - 3]);
    expect(newest.items[0]).toEqual({ ...one.history[f.version - 1], index: f.version - 1 });
    expect(newest.next).toBe(f.version - 3);
    const missing = await fetch(`${base}/api/v1/tickets/NOPE/history`, { headers: AUTH });
    expect(missing.status).toBe(404);
    expect((await json(missing)).code).toBe('ANDON_TICKET_NOT_FOUND');
    expect((await fetch(`${base}/api/v1/tickets/${f.id}/history`)).status).toBe(401);
  });
});

describe('ticketMessage', () => {
  it('trims what does not fit and says so; at worst the ticket identity, state and times', () => {
    const huge = 'y'.repeat(50_000);
    const doc = ticketDoc({
      title: huge,
      evidence: Array.from({ length: 20 }, () => ({ tag: 't', value: huge, ts: '2026-01-20T08:01:00.000Z', message: huge })),
      similar: [{ id: 'S', asset: null, fault: 'f', state: 'resolved', resolution: huge, rootCause: huge, resolvedAt: null, solution: null, labels: [] }],
    });
    const trimmed = ticketMessage(7, doc, [{ index: 0, at: doc.openedAt, action: 'comment', by: 'x', text: huge }]);
    expect(Buffer.byteLength(trimmed)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const data = JSON.parse(trimmed.split('\ndata: ')[1] as string);
    expect(data).toMatchObject({ id: doc.id, version: 1, truncated: true, events: [{ index: 0, action: 'comment' }] });
    expect(data.evidence).toHaveLength(3);

    const stub = ticketMessage(8, { ...doc, key: `${huge}${huge}/f`, asset: huge, flags: Array.from({ length: 5000 }, (_, i) => `flag-${i}`) }, []);
    expect(Buffer.byteLength(stub)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(JSON.parse(stub.split('\ndata: ')[1] as string)).toMatchObject({ id: doc.id, state: 'open', priority: 'P1', truncated: true });
  });

  it('a ticket that fits is sent whole, without its history', () => {
    const doc = ticketDoc();
    const data = JSON.parse(ticketMessage(1, doc, []).split('\ndata: ')[1] as string);
    expect(data).toEqual({ ...doc, membersTotal: 0, events: [] });
  });
});
