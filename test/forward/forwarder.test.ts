import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import type { ForwardedTicket } from '../../gateway/forward/sink.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { gateway, next, seeded, T0, tempDir, when, type Gw } from './kit.ts';

/** PUT bodies as sent, with central's answer status (0: no answer). */
interface Sent {
  body: ForwardedTicket;
  bytes: number;
  status: number;
}
/** An http sink to `url` that records every PUT body and its answer. */
function recordingSink(url: string, sent: Sent[]) {
  const f: typeof fetch = async (input, init) => {
    const text = init?.method === 'PUT' ? String(init.body) : undefined;
    const entry = text === undefined ? undefined : { body: JSON.parse(text) as ForwardedTicket, bytes: Buffer.byteLength(text), status: 0 };
    if (entry) sent.push(entry);
    const res = await fetch(input, init);
    if (entry) entry.status = res.status;
    return res;
  };
  return createHttpSink({ url, timeout: 2_000 }, { fetch: f });
}

/**
 * Store-and-forward against the reference central on 127.0.0.1, on virtual
 * time: coalescing, order per ticket, concurrency, backoff, 429, poison, 409,
 * lost answers, long outages and stopping.
 */
describe('forwarder', () => {
  let tmp: ReturnType<typeof tempDir>;
  let central: Central;
  const open: Gw[] = [];
  const gw = async (opts: Parameters<typeof gateway>[2] = {}) => {
    const g = await gateway(tmp.file, central.url, opts);
    open.push(g);
    return g;
  };
  const closeAll = async () => {
    for (const g of open.splice(0)) await g.close();
  };

  beforeEach(async () => {
    tmp = tempDir('forwarder');
    central = await startCentral({ random: seeded(1) });
  });
  afterEach(async () => {
    await closeAll();
    await central.stop();
    tmp.remove();
  });

  it('pending versions of a ticket coalesce into the newest, and the ticket records where central keeps it', async () => {
    const g = await gw();
    g.alarm('press-1', true);
    g.alarm('press-1', false);
    g.alarm('press-1', true);
    g.alarm('press-1', false);
    expect(g.store.outboxPending()).toBe(4);
    g.forwarder.start();
    await next(g.forwarder.deliveries$, (d) => d.outcome === 'ok');

    const t = g.ticket('press-1');
    expect(central.stats()).toMatchObject({ puts: 1, effective: 1 });
    expect(central.tickets().get(t.id)?.version).toBe(4);
    expect(t.version).toBe(4); // recording the link is not a new version...
    expect(g.store.outboxPending()).toBe(0); // ...and writes no outbox row
    expect(t.central).toEqual({ id: 'C-000001', url: `${central.url}/tickets/${t.id}`, syncedVersion: 4 });
  });

  it('keeps order per ticket: never two requests for one ticket in flight, never an older version after a newer one', async () => {
    central.setFaults({ slowMs: 15 });
    const g = await gw({ concurrency: 4 });
    g.forwarder.start();
    for (let round = 0; round < 12; round++) {
      for (const a of ['m1', 'm2', 'm3']) g.alarm(a, round % 2 === 0);
      await next(g.forwarder.deliveries$, () => true);
    }
    await g.quiet();
    const s = central.stats();
    expect(s.maxInFlightPerTicket).toBe(1);
    expect(s.regressions).toBe(0);
    expect(s.duplicates).toBe(0);
    for (const a of ['m1', 'm2', 'm3']) expect(central.tickets().get(g.ticket(a).id)?.version).toBe(g.ticket(a).version);
    expect(g.store.outboxPending()).toBe(0);
  });

  it('has up to forward.concurrency tickets in flight at once', async () => {
    central.setFaults({ slowMs: 80 });
    const g = await gw({ concurrency: 4 });
    for (let i = 0; i < 10; i++) g.alarm(`c${i}`, true);
    g.forwarder.start();
    await when(central.events, 'write', () => central.stats().effective === 10);
    await g.quiet();
    expect(central.stats().maxInFlight).toBe(4);
  });

  it('fresh tickets and the backlog take turns: neither waits for the other to run out', async () => {
    const g = await gw({ concurrency: 1, batch: 2 }); // the backlog is read 2 ids at a time
    const backlog = Array.from({ length: 10 }, (_, i) => `old-${i}`);
    for (const a of backlog) g.alarm(a, true);
    const ids = new Set(backlog.map((a) => g.ticket(a).id));
    const order: string[] = [];
    let fresh = 0;
    g.forwarder.deliveries$.subscribe((d) => {
      order.push(ids.has(d.ticketId) ? 'old' : 'new');
      if (fresh < 10) g.alarm(`new-${fresh++}`, true); // a live alarm after every delivery: fresh work never runs out
    });
    g.forwarder.start();
    await when(central.events, 'write', () => central.stats().effective === 20);
    await g.quiet();
    expect(order.slice(0, 10)).toEqual(['old', 'new', 'old', 'new', 'old', 'new', 'old', 'new', 'old', 'new']);
  });

  it('central down for hours, then up: every ticket arrives at its newest version, and the outage cost probes, not a request per ticket', async () => {
    await central.pause();
    const g = await gw({ backoff: { base: 1_000, max: 300_000 } });
    let attempts = 0;
    g.forwarder.deliveries$.subscribe((d) => (attempts += d.outcome === 'retry' ? 1 : 0));
    g.forwarder.start();
    const assets = Array.from({ length: 30 }, (_, i) => `down-${i}`);
    // Six virtual hours of outage; tickets keep changing meanwhile.
    for (let minute = 0; minute < 360; minute++) {
      if (minute % 12 === 0) for (const a of assets.slice(0, 5 + (minute / 12) * 2)) g.alarm(a, (minute / 12) % 2 === 0);
      g.advance(60_000);
      await g.quiet();
    }
    const during = central.stats().requests;
    expect(during).toBe(0); // refused at the door: the port is closed
    expect(g.store.outboxPending()).toBeGreaterThan(assets.length);
    expect(attempts).toBeLessThan(250); // ~ one probe a minute or less, not 30 tickets × 360 minutes

    await central.resume();
    for (let i = 0; i < 40 && g.store.outboxPending() > 0; i++) {
      g.advance(60_000);
      await g.quiet();
    }
    expect(g.store.outboxPending()).toBe(0);
    const live = assets.map((a) => g.ticket(a));
    for (const t of live) expect(central.tickets().get(t.id)?.version).toBe(t.version);
    expect(central.stats().duplicates).toBe(0);
  });

  it('keeps a ticket\'s backoff across a restart', async () => {
    central.setFaults({ status5xx: 1 });
    const first = await gw({ random: () => 0.5, backoff: { base: 10_000, max: 60_000 } });
    first.alarm('b1', true);
    first.forwarder.start();
    const failed = await next(first.forwarder.deliveries$, () => true);
    expect(failed).toMatchObject({ outcome: 'retry', attempts: 1, nextAttemptAt: first.clock.now() + 5_000 });
    const at = first.clock.now();
    await closeAll();

    central.setFaults({});
    const before = central.stats().requests;
    const second = await gw({ start: at + 1_000, random: () => 0.5, backoff: { base: 10_000, max: 60_000 } });
    second.forwarder.start();
    await second.quiet();
    second.advance(3_000); // 4 s after the failure: still backing off
    await second.quiet();
    expect(central.stats().requests).toBe(before);
    second.advance(1_000);
    await next(second.forwarder.deliveries$, (d) => d.outcome === 'ok');
    expect(central.tickets().get(second.ticket('b1').id)?.version).toBe(1);
  });

  it('honours 429 and Retry-After: no request to central before it is over', async () => {
    central.setFaults({ status429: { p: 1, retryAfterS: 30 } });
    const g = await gw();
    g.alarm('r1', true);
    g.forwarder.start();
    const d = await next(g.forwarder.deliveries$, () => true);
    expect(d).toMatchObject({ outcome: 'retry', nextAttemptAt: g.clock.now() + 30_000 });
    central.setFaults({});
    g.alarm('r2', true); // a fresh ticket waits too: the hold is central's, not r1's
    await g.quiet();
    g.advance(29_999);
    await g.quiet();
    expect(central.stats().byRoute['PUT ticket']).toBe(1);
    g.advance(1);
    await when(central.events, 'write', () => central.stats().effective === 2);
  });

  it('parks a ticket central refuses without holding up the others, and sends it again once un-parked', async () => {
    const g = await gw();
    g.alarm('bad', true);
    const bad = g.ticket('bad').id;
    central.setFaults({ poison: [bad] });
    for (const a of ['ok1', 'ok2', 'ok3']) g.alarm(a, true);
    g.forwarder.start();
    await when(central.events, 'write', () => central.stats().effective === 3);
    await g.quiet();
    expect(g.store.outbox.summary()).toMatchObject({ pending: { versions: 0 }, parked: { versions: 1, tickets: 1 } });
    expect(g.store.outbox.list({ parked: true })[0]).toMatchObject({ ticketId: bad, lastError: expect.stringContaining('422') });

    central.setFaults({});
    expect(g.store.outbox.retry(bad, g.clock.now())).toBe(1);
    g.forwarder.wake();
    await next(g.forwarder.deliveries$, (d) => d.ticketId === bad && d.outcome === 'ok');
    expect(g.store.outbox.parked()).toBe(0);
  });

  it('409 (central holds a newer version) marks the ticket synced and does not retry', async () => {
    const g = await gw();
    g.alarm('newer', true);
    const t = g.ticket('newer');
    const res = await fetch(`${central.url}/tickets/${t.id}`, { method: 'PUT', headers: { 'idempotency-key': `${t.id}:9` }, body: JSON.stringify({ ...t, version: 9 }) });
    expect(res.status).toBe(201);
    g.forwarder.start();
    const d = await next(g.forwarder.deliveries$, () => true);
    expect(d.outcome).toBe('conflict');
    expect(g.store.outboxPending()).toBe(0);
    expect(g.ticket('newer').central).toMatchObject({ id: 'C-000001', syncedVersion: 1 });
  });

  it('after an outage a ticket\'s many versions go as one PUT with exactly the events central lacks, each once, indexed; central ends with the store\'s history', async () => {
    const sent: Sent[] = [];
    const g = await gw({ sink: recordingSink(central.url, sent) });
    g.alarm('toggler', true);
    g.forwarder.start();
    await next(g.forwarder.deliveries$, (d) => d.outcome === 'ok');
    const id = g.ticket('toggler').id;
    expect(sent.map((s) => [s.body.historyFrom, s.body.history.map((e) => e.index)])).toEqual([[0, [0]]]);

    await central.pause();
    for (let i = 0; i < 40; i++) g.alarm('toggler', i % 2 === 1); // 40 more versions: cleared, occurrence, ...
    for (let i = 0; i < 30 && g.store.outboxPending() > 0; i++) {
      if (i === 5) await central.resume();
      g.advance(60_000);
      await g.quiet();
    }
    expect(g.store.outboxPending()).toBe(0);
    const t = g.ticket('toggler');
    expect(t.version).toBe(41);

    const taken = sent.filter((s) => s.status === 200 || s.status === 201);
    expect(taken.map((s) => [s.body.version, s.body.historyFrom, s.body.history.length])).toEqual([
      [1, 0, 1],
      [41, 1, 40],
    ]);
    const indexes = taken.flatMap((s) => s.body.history.map((e) => e.index));
    expect(indexes).toEqual(Array.from({ length: 41 }, (_, i) => i)); // every event once, in order
    for (const s of sent) expect(s.body.history.map((e) => e.index)).toEqual(s.body.history.map((_, i) => s.body.historyFrom + i));
    const stored = g.store.history(id).map((e, index) => ({ ...e, index }));
    expect(central.tickets().get(id)?.ticket.history).toEqual(stored);
    expect(taken.flatMap((s) => s.body.history)).toEqual(stored);
    expect(central.stats()).toMatchObject({ gaps: 0, repeatedEvents: 0 });
  });

  it('central lost the ticket (restarted empty): the gap answer makes the same version go again with the whole history', async () => {
    const sent: Sent[] = [];
    const g = await gw({ sink: recordingSink(central.url, sent) });
    g.alarm('lost', true);
    g.alarm('lost', false);
    g.forwarder.start();
    await next(g.forwarder.deliveries$, (d) => d.outcome === 'ok');
    const id = g.ticket('lost').id;

    const port = central.port;
    await central.stop();
    central = await startCentral({ port, random: seeded(1) });
    sent.length = 0;
    g.alarm('lost', true);
    // The first try may meet a connection of the old central's that is gone (a retry): central answers the next.
    for (let i = 0; i < 10 && (await next(g.forwarder.deliveries$, (x) => x.ticketId === id)).outcome !== 'ok'; i++) g.advance(60_000);
    expect(g.store.outboxPending()).toBe(0);
    expect(sent.filter((s) => s.status !== 0).map((s) => [s.status, s.body.version, s.body.historyFrom, s.body.history.length])).toEqual([
      [409, 3, 2, 1], // central: CENTRAL_HISTORY_GAP, holds nothing
      [201, 3, 0, 3], // the same version again, from where central is
    ]);
    expect(central.tickets().get(id)).toMatchObject({ version: 3, ticket: { history: g.store.history(id).map((e, index) => ({ ...e, index })) } });
    expect(g.ticket('lost').central).toMatchObject({ syncedVersion: 3 });
  });

  it('a delta that is not one event per version (indexes would be wrong) goes with the whole history, indexed by position', async () => {
    const sent: Sent[] = [];
    const g = await gw({ sink: recordingSink(central.url, sent) });
    g.alarm('odd', true);
    g.forwarder.start();
    await next(g.forwarder.deliveries$, (d) => d.outcome === 'ok');
    const id = g.ticket('odd').id;
    await g.forwarder.stop(); // the next versions go through a second forwarder, once the odd event is in
    g.alarm('odd', false); // v2
    const raw = new Database(tmp.file);
    raw.prepare("INSERT INTO ticket_events (ticket_id, version, at, action, by) VALUES (?, 2, ?, 'comment', 'li')").run(id, T0);
    raw.close();
    g.alarm('odd', true); // v3
    const again = await gw({ sink: recordingSink(central.url, sent) });
    again.forwarder.start();
    await next(again.forwarder.deliveries$, (d) => d.outcome === 'ok');
    expect(sent.at(-1)?.body).toMatchObject({ version: 3, historyFrom: 0 });
    expect(sent.at(-1)?.body.history.map((e) => [e.index, e.action])).toEqual([
      [0, 'opened'],
      [1, 'cleared'],
      [2, 'comment'],
      [3, 'occurrence'],
    ]);
    expect(central.tickets().get(id)?.ticket.history).toHaveLength(4);
  });

  it('an answer lost after central committed (commitThenDrop) has no second effect', async () => {
    central.setFaults({ commitThenDrop: 0.5 });
    const g = await gw({ backoff: { base: 100, max: 1_000 } });
    const assets = Array.from({ length: 20 }, (_, i) => `lost-${i}`);
    for (const a of assets) g.alarm(a, true);
    g.forwarder.start();
    for (let i = 0; i < 200 && g.store.outboxPending() > 0; i++) {
      await g.quiet();
      g.advance(1_000);
    }
    const s = central.stats();
    expect(g.store.outboxPending()).toBe(0);
    expect(s.faults.commitThenDrop).toBeGreaterThan(3);
    expect(s.effective).toBe(assets.length); // one effect per (ticket, version)...
    expect(s.replays).toBe(s.faults.commitThenDrop); // ...each lost answer came back from the idempotency record
    expect(s.duplicates).toBe(0);
  });

  it('stop aborts requests in flight in bounded time; their versions go after the next start', async () => {
    central.setFaults({ timeoutMs: 20_000 });
    const g = await gw();
    g.alarm('slow', true);
    g.forwarder.start();
    await when(central.events, 'request', () => central.stats().byRoute['PUT ticket'] === 1);
    const aborted = next(g.forwarder.deliveries$, () => true);
    const t0 = performance.now();
    await g.forwarder.stop();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await aborted).toMatchObject({ outcome: 'aborted' });
    expect(g.store.outbox.head(g.ticket('slow').id)).toMatchObject({ version: 1, attempts: 0 });
    await closeAll();

    central.setFaults({});
    const again = await gw();
    again.forwarder.start();
    await next(again.forwarder.deliveries$, (d) => d.outcome === 'ok');
    expect(central.stats().effective).toBe(1);
  });
});

