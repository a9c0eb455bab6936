import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { createSyncApplier } from '../gateway/forward/sync.ts';
import { testApp } from '../gateway/http/fixture.ts';
import { replay } from '../gateway/replay.ts';

/**
 * A bad timestamp (not a date, before 2000, too far ahead) is refused at each
 * entry point without costing anything else: replay counts the line and goes
 * on, a change from central is refused on its own, (Alertmanager: gateway/http/alertmanager.test.ts); the good alarm after it opens its ticket.
 */
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('bad timestamps at the entry points', () => {
  it("replay: a line dated 1e300, -1e300, 1999 or after the replay's clock is refused as time; the run goes on and the next alarm opens", async () => {
    const config = parseConfig(`
gateway: { id: replay-time }
rules: [ { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 } ]
`);
    const line = (t: unknown, asset: string) => JSON.stringify({ t, tag: `line/${asset}/alarm/E1`, value: true });
    const { tickets, summary } = await replay({
      config,
      now: T0,
      input: [
        line('2026-03-02T07:00:00Z', 'press-0'),
        line(1e300, 'press-1'),
        line('1999-12-31T23:59:59Z', 'press-1'),
        line(-1e300, 'press-1'),
        // An hour after the replay's clock: it would jump the virtual clock past the records behind it.
        line(T0 + 3_600_000, 'press-1'),
        line('2026-03-02T07:01:00Z', 'press-2'),
      ],
    });
    expect(summary.rejectedBy).toEqual({ time: 4 });
    expect(summary.signals).toBe(2);
    expect(tickets.map((t) => t.key).sort()).toEqual(['press-0/alarm-stop', 'press-2/alarm-stop']);
  });

  it('sync: a change from central whose at is not a time is refused (ANDON_FORWARD_SYNC_INVALID_TIME); the next change applies', async () => {
    const t = await testApp({ start: T0 });
    close = t.close;
    t.signal('packaging/sealer-01/alarm', true);
    const id = t.store.liveByKey('sealer-01/alarm-stop')!.id;
    const applier = createSyncApplier({ runtime: t.runtime, store: t.store, now: () => t.clock.now() });
    const results = applier.apply(
      [
        { ticketId: id, action: 'ack', by: 'central', at: -1e300, fields: {} },
        { ticketId: id, action: 'ack', by: 'central', at: Number.NaN, fields: {} },
        { ticketId: id, action: 'ack', by: 'central', at: T0 + 86_400_000, fields: {} }, // central's clock ahead: taken as now
      ],
      'push',
    );
    expect(results.map((r) => r.code ?? r.outcome)).toEqual(['ANDON_FORWARD_SYNC_INVALID_TIME', 'ANDON_FORWARD_SYNC_INVALID_TIME', 'applied']);
    expect(t.store.get(id)?.state).toBe('acknowledged');
    expect(t.runtime.held()).toBe(0);
  });
});
