import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { matches } from '../actions.ts';
import { createRuntime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';

/**
 * Early warnings on the engine, in virtual time, on a real SQLite file: a probable cause fires, the effect's
 * ticket is warned; the effect confirms it, or `expectedBy` passes and it is missed, also across a restart.
 */
const CONFIG = `
gateway: { id: warn-test, timezone: Europe/Madrid }
assets:
  mixer-02: { area: dough, tags: ["dough/mixer-02/**"] }
  chiller-5: { area: cooling, tags: ["cooling/chiller-5/**"] }
rules:
  - { id: overtemp, when: { tag: "dough/*/temp", above: 30, clearBelow: 28 }, fault: overtemp, category: process, priority: P1 }
  - { id: flow, when: { tag: "cooling/*/flow", below: 10, clearAbove: 12 }, fault: flow-low, priority: P3 }
routing:
  - { match: { area: dough }, assign: bakers, notify: [line-lead] }
notify:
  line-lead: { type: webhook, url: "http://127.0.0.1:9/hook" }
correlation:
  recurrence: { count: 3, within: 10d }
  discoverCauses: { within: 5m, minSupport: 3 }
`;

const T0 = Date.parse('2026-05-04T06:00:00Z');
const S = 1000;
const MIN = 60 * S;
const DAY = 86_400_000;
const EFFECT = 'mixer-02/overtemp';

describe('early warnings', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'andon-warn-'));
    file = join(dir, 'andon.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  type Rt = ReturnType<typeof createRuntime>;
  async function life(start: number, fn: (rt: Rt, clock: VirtualScheduler, store: TicketStore) => void, yaml = CONFIG) {
    const store = await TicketStore.open(file);
    const clock = new VirtualScheduler(start);
    const rt = createRuntime({ config: parseConfig(yaml), store, scheduler: clock });
    try {
      fn(rt, clock, store);
    } finally {
      rt.stop();
      await store.close();
    }
  }
  const at = (rt: Rt, clock: VirtualScheduler, t: number, tag: string, value: number) => {
    clock.advanceTo(t);
    rt.push({ source: 'plc', tag, value, quality: 'good', ts: t });
  };
  /** A cause episode at t (flow drops, back 20 s later) and, `lead` later, the effect (back 5 min later). */
  const episode = (rt: Rt, clock: VirtualScheduler, t: number, lead: number | null) => {
    at(rt, clock, t, 'cooling/chiller-5/flow', 5);
    at(rt, clock, t + 20 * S, 'cooling/chiller-5/flow', 15);
    if (lead === null) return;
    at(rt, clock, t + lead, 'dough/mixer-02/temp', 35);
    at(rt, clock, t + lead + 5 * MIN, 'dough/mixer-02/temp', 20);
  };
  /** Three past days: the flow drop precedes the overtemp by 2 min (then 2:10, 1:50). */
  const learn = (rt: Rt, clock: VirtualScheduler) => {
    episode(rt, clock, T0, 2 * MIN);
    episode(rt, clock, T0 + DAY, 2 * MIN + 10 * S);
    episode(rt, clock, T0 + 2 * DAY, 2 * MIN - 10 * S);
  };

  it('a cause firing warns on the effect ticket; the effect before expectedBy confirms it with the actual lead', async () => {
    await life(T0, (rt, clock, store) => {
      learn(rt, clock);
      const before = store.liveByKey(EFFECT);
      expect(before?.causes[0]).toMatchObject({ asset: 'chiller-5', fault: 'flow-low', support: 3, of: 3, leadSeconds: 120, maxLeadSeconds: 130 });
      expect(before?.warnings).toEqual([]);
      const t = T0 + 3 * DAY;
      at(rt, clock, t, 'cooling/chiller-5/flow', 5);
      const warned = store.liveByKey(EFFECT);
      expect(warned?.warnings).toEqual([
        {
          id: `${warned?.id}:${warned?.version}`,
          at: new Date(t).toISOString(),
          cause: { asset: 'chiller-5', fault: 'flow-low', support: 3, of: 3 },
          leadSeconds: 120,
          // 120 s × (1 + margin 0.5) = 180 s (more than the longest lead, 130 s)
          expectedBy: new Date(t + 180 * S).toISOString(),
          outcome: 'pending',
          settledAt: null,
          actualLeadSeconds: null,
        },
      ]);
      expect(warned?.history.at(-1)).toMatchObject({ action: 'warned', by: 'andon', leadSeconds: 120, cause: { asset: 'chiller-5', fault: 'flow-low' } });
      // the route's channel hears of it, though the ticket is P1 and already open
      expect(store.notifications.list({ parked: false }).items.filter((n) => n.kind === 'warning')).toHaveLength(1);

      at(rt, clock, t + 95 * S, 'dough/mixer-02/temp', 35);
      const done = store.liveByKey(EFFECT);
      expect(done?.warnings[0]).toMatchObject({ outcome: 'confirmed', actualLeadSeconds: 95, settledAt: new Date(t + 95 * S).toISOString() });
      expect(done?.history.slice(-2).map((h) => h.action)).toEqual(['occurrence', 'warning-confirmed']);
      // the timer was cancelled: nothing is missed later
      clock.advanceTo(t + 10 * MIN);
      expect(store.liveByKey(EFFECT)?.history.filter((h) => h.action === 'warning-missed')).toEqual([]);
    });
  });

  it('without the effect, the warning is missed at expectedBy (virtual time), and a pending one is not repeated', async () => {
    await life(T0, (rt, clock, store) => {
      learn(rt, clock);
      const t = T0 + 3 * DAY;
      episode(rt, clock, t, null);
      at(rt, clock, t + 60 * S, 'cooling/chiller-5/flow', 5); // a second drop while the first warning is pending
      expect(store.liveByKey(EFFECT)?.warnings.map((w) => w.outcome)).toEqual(['pending']);
      clock.advanceTo(t + 180 * S - 1);
      expect(store.liveByKey(EFFECT)?.warnings[0]?.outcome).toBe('pending');
      clock.advanceTo(t + 180 * S);
      const missed = store.liveByKey(EFFECT);
      expect(missed?.warnings[0]).toMatchObject({ outcome: 'missed', settledAt: new Date(t + 180 * S).toISOString(), actualLeadSeconds: null });
      expect(missed?.history.at(-1)).toMatchObject({ action: 'warning-missed', expectedBy: new Date(t + 180 * S).toISOString() });
      // the effect after expectedBy confirms nothing
      at(rt, clock, t + 4 * MIN, 'dough/mixer-02/temp', 35);
      expect(store.liveByKey(EFFECT)?.warnings.map((w) => w.outcome)).toEqual(['missed']);
    });
  });

  it('a pending warning survives a restart: its expectedBy passing while down marks it missed at start', async () => {
    const t = T0 + 3 * DAY;
    await life(T0, (rt, clock) => {
      learn(rt, clock);
      at(rt, clock, t, 'cooling/chiller-5/flow', 5);
    });
    await life(t + 10 * MIN, (_rt, clock, store) => {
      clock.advanceTo(t + 11 * MIN);
      expect(store.liveByKey(EFFECT)?.warnings[0]).toMatchObject({ outcome: 'missed', settledAt: new Date(t + 180 * S).toISOString() });
    });
    // and the causes index is rebuilt from the stored tickets: the next drop warns again
    await life(t + DAY, (rt, clock, store) => {
      at(rt, clock, t + DAY, 'cooling/chiller-5/flow', 5);
      expect(store.liveByKey(EFFECT)?.warnings.map((w) => w.outcome)).toEqual(['missed', 'pending']);
      at(rt, clock, t + DAY + 2 * MIN, 'dough/mixer-02/temp', 35);
      expect(store.liveByKey(EFFECT)?.warnings.map((w) => w.outcome)).toEqual(['missed', 'confirmed']);
    });
  });

  it('a cause whose warnings are mostly missed stops warning (precision below minPrecision), also after a restart', async () => {
    const yaml = CONFIG.replace('discoverCauses: { within: 5m, minSupport: 3 }', 'discoverCauses: { within: 5m, minSupport: 3 }\n  earlyWarning: { minPrecision: 0.5 }');
    let t = T0 + 3 * DAY;
    await life(
      T0,
      (rt, clock, store) => {
        learn(rt, clock);
        // 5 warnings: 1 confirmed, 4 missed (the flow drops at night without consequence)
        episode(rt, clock, t, 2 * MIN);
        for (let i = 1; i <= 4; i++) episode(rt, clock, t + i * 2 * 3_600_000, null);
        clock.advanceTo(t + 9 * 3_600_000);
        expect(store.liveByKey(EFFECT)?.warnings.map((w) => w.outcome)).toEqual(['confirmed', 'missed', 'missed', 'missed', 'missed']);
      },
      yaml,
    );
    t += DAY;
    await life(
      t,
      (rt, clock, store) => {
        episode(rt, clock, t, null);
        expect(store.liveByKey(EFFECT)?.warnings).toHaveLength(5);
      },
      yaml,
    );
  });

  it('shelving the ticket silences its warnings: recorded, but no notification and no amber light', async () => {
    const amber = { warning: true, area: 'dough' } as const;
    await life(T0, (rt, clock, store) => {
      learn(rt, clock);
      const t = T0 + 3 * DAY;
      clock.advanceTo(t - MIN);
      const id = store.liveByKey(EFFECT)?.id as string;
      rt.act({ type: 'transition', at: clock.now(), id, action: 'shelve', by: 'wang', fields: { reason: 'mixer cleaning', duration: '2h' } });
      at(rt, clock, t, 'cooling/chiller-5/flow', 5);
      const shelved = store.liveByKey(EFFECT);
      expect(shelved?.warnings.map((w) => w.outcome)).toEqual(['pending']);
      expect(store.notifications.list({ parked: false }).items.filter((n) => n.kind === 'warning')).toEqual([]);
      expect(matches(amber, shelved!)).toBe(false);
      rt.act({ type: 'transition', at: clock.now(), id, action: 'unshelve', by: 'wang', fields: {} });
      // unshelved, the pending warning holds the amber on again, until the fault confirms it
      expect(matches(amber, store.liveByKey(EFFECT)!)).toBe(true);
      at(rt, clock, t + 2 * MIN, 'dough/mixer-02/temp', 35);
      expect(matches(amber, store.liveByKey(EFFECT)!)).toBe(false);
    });
  });

  it('beforePattern warns that long before a daily ticket\'s recurrence.next (plant time), with the cause { pattern }', async () => {
    const yaml = CONFIG.replace('  discoverCauses: { within: 5m, minSupport: 3 }', '  earlyWarning: { enabled: true, beforePattern: 15m }');
    await life(
      T0,
      (rt, clock, store) => {
        for (const n of [0, 1, 2]) {
          at(rt, clock, T0 + n * DAY + n * MIN, 'dough/mixer-02/temp', 35); // 08:00, 08:01, 08:02 in Madrid (CEST)
          at(rt, clock, T0 + n * DAY + 10 * MIN, 'dough/mixer-02/temp', 20);
        }
        const t = store.liveByKey(EFFECT);
        expect(t?.recurrence).toMatchObject({ pattern: 'daily', at: '08:01', next: '2026-05-07T08:01:00+02:00' });
        expect(t?.warnings).toEqual([]);
        const next = Date.parse('2026-05-07T06:01:00Z');
        clock.advanceTo(next - 15 * MIN - 1);
        expect(store.liveByKey(EFFECT)?.warnings).toEqual([]);
        clock.advanceTo(next - 15 * MIN);
        expect(store.liveByKey(EFFECT)?.warnings).toEqual([
          expect.objectContaining({ cause: { pattern: 'daily', support: 3 }, leadSeconds: 900, expectedBy: new Date(next - 15 * MIN + 1350 * S).toISOString(), outcome: 'pending' }),
        ]);
        expect(store.notifications.list({ parked: false }).items.filter((n) => n.kind === 'warning')).toHaveLength(1);
        at(rt, clock, next + 2 * MIN, 'dough/mixer-02/temp', 35);
        const done = store.liveByKey(EFFECT);
        expect(done?.warnings[0]).toMatchObject({ outcome: 'confirmed', actualLeadSeconds: 17 * 60 });
        expect(done?.recurrence?.next).toBe('2026-05-08T08:02:00+02:00'); // the mean of 08:00..08:03
        // a day without the fault: missed, and next moves on a day
        at(rt, clock, next + 10 * MIN, 'dough/mixer-02/temp', 20);
        clock.advanceTo(next + DAY + 30 * MIN);
        const missed = store.liveByKey(EFFECT);
        expect(missed?.warnings.map((w) => w.outcome)).toEqual(['confirmed', 'missed']);
        expect(missed?.recurrence?.next).toBe('2026-05-09T08:02:00+02:00');
      },
      yaml,
    );
  });

  it('is off without discoverCauses unless enabled, and enabled: false turns it off', async () => {
    const off = CONFIG.replace('discoverCauses: { within: 5m, minSupport: 3 }', 'discoverCauses: { within: 5m, minSupport: 3 }\n  earlyWarning: { enabled: false }');
    await life(
      T0,
      (rt, clock, store) => {
        learn(rt, clock);
        at(rt, clock, T0 + 3 * DAY, 'cooling/chiller-5/flow', 5);
        expect(store.liveByKey(EFFECT)?.warnings).toEqual([]);
      },
      off,
    );
  });
});
