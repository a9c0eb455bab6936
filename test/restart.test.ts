import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { createRuntime } from '../gateway/runtime.ts';
import { TicketStore } from '../gateway/store/store.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';

/**
 * A gateway restarted in the middle keeps its promises: escalation deadlines
 * come back from the store, and recurrence and causes remember the raises from
 * before the restart.
 */
const CONFIG = parseConfig(`
gateway: { id: restart-test, timezone: Europe/Berlin }
assets:
  press-04: { area: stamping, tags: ["stamping/press-04/**"] }
  feeder-7: { area: utilities, tags: ["utilities/feeder-7/**"] }
rules:
  - { id: alarms, when: { tag: "stamping/*/alarm/**", equals: true }, fault: jam, category: hardware, priority: P1 }
  - { id: dip, when: { tag: "utilities/*/voltage", below: 200, clearAbove: 210 }, fault: voltage-dip, priority: P2 }
correlation:
  recurrence: { count: 3, within: 10d }
  discoverCauses: { within: 3m, minSupport: 3 }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [] }
  - { after: 2h, unless: resolved, level: 2, notify: [] }
`);

const T0 = Date.parse('2026-07-01T09:00:00Z');
const MIN = 60_000;

describe('restart in the middle', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'andon-restart-'));
    file = join(dir, 'andon.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** One gateway life: opens the store, runs `fn` on virtual time from `start`, closes. */
  async function life(start: number, fn: (rt: ReturnType<typeof createRuntime>, clock: VirtualScheduler) => void, config = CONFIG) {
    const store = await TicketStore.open(file);
    const clock = new VirtualScheduler(start);
    const rt = createRuntime({ config, store, scheduler: clock });
    try {
      fn(rt, clock);
    } finally {
      rt.stop();
      await store.close();
    }
  }
  const push = (rt: ReturnType<typeof createRuntime>, clock: VirtualScheduler, t: number, tag: string, value: number | boolean) => {
    clock.advanceTo(t);
    rt.push({ source: 'plc', tag, value, quality: 'good', ts: t });
  };
  const only = async (key: string) => {
    const store = await TicketStore.open(file);
    try {
      return store.liveByKey(key);
    } finally {
      await store.close();
    }
  };

  it('an escalation deadline that falls while the gateway is down fires after the restart, once', async () => {
    await life(T0, (rt, clock) => {
      push(rt, clock, T0, 'stamping/press-04/alarm/J1', true);
      clock.advanceTo(T0 + 10 * MIN); // down before respondBy (30 min)
    });
    expect((await only('press-04/jam'))?.escalationLevel).toBe(0);

    await life(T0 + 45 * MIN, (_rt, clock) => clock.advanceTo(T0 + 50 * MIN));
    const t = await only('press-04/jam');
    expect(t?.escalationLevel).toBe(1);
    expect(t?.flags).toContain('sla-breached');
    expect(t?.history.filter((h) => h.action === 'escalated')).toHaveLength(1);

    // Another restart does not escalate the same level again; level 2 (after 2h) still comes.
    await life(T0 + 60 * MIN, (_rt, clock) => clock.advanceTo(T0 + 3 * 60 * MIN));
    const later = await only('press-04/jam');
    expect(later?.escalations.map((e) => e.level)).toEqual([1, 2]);
    expect(later?.escalations[1]?.at).toBe(new Date(T0 + 2 * 60 * MIN).toISOString());
  });

  it('levels scoped by match: after a restart each ticket gets only the levels that fit it', async () => {
    const scoped = parseConfig(`
gateway: { id: restart-test }
assets:
  press-04: { area: stamping, tags: ["stamping/press-04/**"] }
  feeder-7: { area: utilities, tags: ["utilities/feeder-7/**"] }
rules:
  - { id: alarms, when: { tag: "stamping/*/alarm/**", equals: true }, fault: jam, priority: P1 }
  - { id: dip, when: { tag: "utilities/*/voltage", below: 200 }, fault: voltage-dip, priority: P3 }
escalation:
  - { after: 1h, unless: resolved, level: 1, match: { priority: [P0, P1] } }
  - { after: 2h, unless: resolved, level: 2, match: { area: [utilities, paint] } }
`);
    await life(T0, (rt, clock) => {
      push(rt, clock, T0, 'stamping/press-04/alarm/J1', true);
      push(rt, clock, T0, 'utilities/feeder-7/voltage', 190);
      clock.advanceTo(T0 + 10 * MIN); // down before either level
    }, scoped);
    await life(T0 + 3 * 60 * MIN, (_rt, clock) => clock.advanceTo(T0 + 4 * 60 * MIN), scoped);
    expect((await only('press-04/jam'))?.escalations.map((e) => e.level)).toEqual([1]);
    expect((await only('feeder-7/voltage-dip'))?.escalations.map((e) => e.level)).toEqual([2]);
  });

  it('a deadline still ahead at restart fires at its time, not at the restart', async () => {
    await life(T0, (rt, clock) => push(rt, clock, T0, 'stamping/press-04/alarm/J1', true));
    await life(T0 + 5 * MIN, (_rt, clock) => clock.advanceTo(T0 + 40 * MIN));
    expect((await only('press-04/jam'))?.escalations[0]?.at).toBe(new Date(T0 + 30 * MIN).toISOString());
  });

  it('an acknowledgement before the restart is remembered: no escalation after it', async () => {
    await life(T0, (rt, clock) => {
      push(rt, clock, T0, 'stamping/press-04/alarm/J1', true);
      clock.advanceTo(T0 + 5 * MIN);
      rt.act({ type: 'transition', at: clock.now(), key: 'press-04/jam', action: 'ack', by: 'anna', fields: {} });
    });
    await life(T0 + 20 * MIN, (_rt, clock) => clock.advanceTo(T0 + 60 * MIN));
    const t = await only('press-04/jam');
    expect(t?.escalationLevel).toBe(0);
    expect(t?.flags).not.toContain('sla-breached');
  });

  it('recurrence and discovered causes count raises from before the restart', async () => {
    const DAY = 86_400_000;
    const stop = (rt: ReturnType<typeof createRuntime>, clock: VirtualScheduler, day: number) => {
      const t = T0 + day * DAY + 5 * 60 * MIN; // 14:00 UTC = 16:00 Berlin (summer)
      push(rt, clock, t - 2 * MIN, 'utilities/feeder-7/voltage', 190);
      push(rt, clock, t - MIN, 'utilities/feeder-7/voltage', 230);
      push(rt, clock, t, 'stamping/press-04/alarm/J1', true);
      push(rt, clock, t + 5 * MIN, 'stamping/press-04/alarm/J1', false);
    };
    await life(T0, (rt, clock) => {
      stop(rt, clock, 0);
      stop(rt, clock, 1);
    });
    await life(T0 + 2 * DAY, (rt, clock) => stop(rt, clock, 2));
    const t = await only('press-04/jam');
    expect(t?.occurrences).toBe(3);
    expect(t?.flags).toContain('recurring');
    expect(t?.recurrence).toMatchObject({ pattern: 'daily', at: '16:00', count: 3 });
    expect(t?.causes[0]).toMatchObject({ fault: 'voltage-dip', asset: 'feeder-7', support: 3, of: 3, leadSeconds: 120, source: 'discovered' });
  });
  it('a flood that is on when the gateway stops goes on after the restart and ends once its area is calm', async () => {
    const config = parseConfig(`
gateway: { id: restart-flood }
assets:
  press-04: { area: stamping, tags: ["stamping/press-04/**"] }
rules:
  - { id: alarms, when: { tag: "stamping/*/alarm/**", equals: true }, fault: jam, priority: P2 }
correlation:
  flood: { count: 3, within: 10m, per: area }
`);
    const lifeOf = async (start: number, fn: (rt: ReturnType<typeof createRuntime>, clock: VirtualScheduler) => void) => {
      const store = await TicketStore.open(file);
      const clock = new VirtualScheduler(start);
      const rt = createRuntime({ config, store, scheduler: clock });
      try {
        fn(rt, clock);
      } finally {
        rt.stop();
        await store.close();
      }
    };
    await lifeOf(T0, (rt, clock) => {
      for (let i = 0; i < 5; i++) push(rt, clock, T0 + i * 1000, `stamping/press-04/alarm/A${i}`, true);
    });
    expect((await only('stamping/alarm-flood'))?.condition).toBe('active');

    // Back after 2 minutes: one more alarm joins the flood, then the area stays calm.
    await lifeOf(T0 + 2 * MIN, (rt, clock) => {
      push(rt, clock, T0 + 2 * MIN, 'stamping/press-04/alarm/B1', true);
      clock.advanceTo(T0 + 2 * MIN + 9 * MIN);
    });
    const during = await only('stamping/alarm-flood');
    expect(during?.condition).toBe('active');
    expect(during?.members.map((m) => m.at)).toHaveLength(6);
    expect(await only('press-04/jam')).toBeFalsy(); // the member alarm opened nothing of its own

    await lifeOf(T0 + 11 * MIN, (_rt, clock) => clock.advanceTo(T0 + 13 * MIN));
    const after = await only('stamping/alarm-flood');
    expect(after?.condition).toBe('cleared');
    expect(after?.history.at(-1)).toMatchObject({ action: 'cleared', by: 'andon' });
  });
});
