import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import type { ForwardedTicket, Sink } from '../../gateway/forward/sink.ts';
import type { Ticket } from '../../model/ticket.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { gateway, next, seeded, T0, tempDir, type Gw } from './kit.ts';

/**
 * A forwarded version carries the history central has not acknowledged, not the whole history:
 * its size does not grow with the ticket's history, and central ends with the whole history all the same.
 */
describe('history deltas to central', () => {
  let tmp: ReturnType<typeof tempDir>;
  let central: Central;
  let g: Gw;
  /** Every PUT the gateway made: the body's size, where its history starts and the indexes it carries. */
  let puts: { version: number; bytes: number; historyFrom: number; indexes: number[] }[];

  beforeEach(async () => {
    tmp = tempDir('history-delta');
    central = await startCentral({ random: seeded(1) });
    puts = [];
    const http = createHttpSink({ url: central.url, timeout: 2_000 }, { now: () => T0 });
    const sink: Sink = {
      put: (t, signal) => {
        const f = t as ForwardedTicket;
        puts.push({ version: f.version, bytes: JSON.stringify(f).length, historyFrom: f.historyFrom, indexes: f.history.map((e) => e.index) });
        return http.put(f, signal);
      },
    };
    g = await gateway(tmp.file, central.url, { sink });
  });
  afterEach(async () => {
    await g.close();
    await central.stop();
    tmp.remove();
  });

  const toggle = (n: number) => {
    for (let i = 0; i < n; i++) g.alarm('press-1', i % 2 === 0);
  };
  const deliver = async () => {
    g.forwarder.start();
    await g.quiet();
    for (let i = 0; i < 20 && g.store.outboxPending() > 0; i++) {
      g.forwarder.wake();
      await next(g.forwarder.deliveries$, () => true);
      await g.quiet();
    }
    expect(g.store.outboxPending()).toBe(0);
  };
  /** The store's whole history, as central should hold it (each event with its index). */
  const stored = (t: Ticket) => g.store.history(t.id).map((e, index) => ({ ...e, index }));
  const atCentral = (id: string) => central.tickets().get(id)?.ticket.history;

  it('after 2,000 changes a new version carries only its own events; central holds the whole history', async () => {
    toggle(2_000);
    await deliver();
    const t = g.ticket('press-1');
    expect(puts.at(-1)).toMatchObject({ version: 2_000, historyFrom: 0 });
    expect(atCentral(t.id)).toEqual(stored(t));

    toggle(3);
    await deliver();
    const last = puts.at(-1)!;
    expect(last).toMatchObject({ version: 2_003, historyFrom: 2_000, indexes: [2_000, 2_001, 2_002] });
    // the first PUT carried 2,000 events; this one three: its size is the ticket's, not its history's
    expect(last.bytes).toBeLessThan(8_000);
    expect(puts[0]!.bytes).toBeGreaterThan(50 * last.bytes);
    expect(atCentral(t.id)).toEqual(stored(g.ticket('press-1')));
  });

  it('after an outage the next version carries each unacknowledged event once, in order', async () => {
    toggle(5);
    await deliver();
    central.setFaults({ status5xx: 1 });
    toggle(7);
    g.forwarder.wake();
    await next(g.forwarder.deliveries$, (d) => d.outcome === 'retry');
    toggle(2);
    central.setFaults({});
    g.advance(10 * 60_000);
    await deliver();
    const version = g.ticket('press-1').version;
    expect(version).toBeGreaterThan(6);
    expect(puts.at(-1)).toMatchObject({ version, historyFrom: 5, indexes: Array.from({ length: version - 5 }, (_, i) => 5 + i) });
    expect(atCentral(g.ticket('press-1').id)).toEqual(stored(g.ticket('press-1')));
  });

  it('a central that lost history says how much it holds (409 CENTRAL_HISTORY_GAP); the gateway sends from there at once', async () => {
    toggle(10);
    await deliver();
    const t = g.ticket('press-1');
    // central restored from an older backup: it holds the first 4 versions only
    const c = central.tickets().get(t.id)!;
    c.version = 4;
    c.ticket = { ...c.ticket, version: 4, history: (c.ticket.history as unknown[]).slice(0, 4) };
    toggle(1);
    await deliver();
    expect(puts.slice(-2).map((p) => [p.version, p.historyFrom])).toEqual([
      [11, 10],
      [11, 4],
    ]);
    expect(central.stats().gaps).toBe(1);
    expect(atCentral(t.id)).toEqual(stored(g.ticket('press-1')));
    expect(g.ticket('press-1').central?.syncedVersion).toBe(11);
  });
});
