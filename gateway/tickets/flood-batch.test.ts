import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import type { Signal } from '../../rules/types.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { createRuntime } from '../runtime.ts';
import { createTagView } from '../tags.ts';
import { TicketStore } from '../store/store.ts';
import type { TicketChange } from './engine.ts';

const config = parseConfig(`
gateway: { id: gw }
sources: [ { id: plc, type: http } ]
rules:
  - { id: alarms, when: { tag: "hall/*/alarm", equals: true }, fault: alarm-stop, category: hardware, priority: P2 }
  - { id: urgent, when: { tag: "hall/*/estop", equals: true }, fault: estop, category: safety, priority: P0 }
correlation:
  flood: { count: 3, within: 10m, per: area }
`);
let dir: string;
let store: TicketStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'andon-flood-batch-'));
  store = await TicketStore.open(join(dir, 'andon.sqlite'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the members raised in one batch join one version of the flood ticket: one event counting them, one outbox row, one change', () => {
  const clock = new VirtualScheduler(Date.parse('2026-03-01T08:00:00Z'));
  const rt = createRuntime({ config, store, scheduler: clock });
  const alarm = (m: string, tag = 'alarm'): Signal => ({ source: 'plc', tag: `hall/${m}/${tag}`, value: true, quality: 'good', ts: clock.now() });
  // the flood opens (more than 3 alarm tags)
  rt.pushMany(['m1', 'm2', 'm3', 'm4'].map((m) => alarm(m)));
  const flood = () => store.list({ fault: 'alarm-flood', history: false }).items[0]!;
  const before = flood();
  const outbox = store.outboxPending();
  const changes: TicketChange[] = [];
  const sub = rt.engine.changes$.subscribe((c) => changes.push(c));
  rt.pushMany(['m5', 'm6', 'm7', 'm8', 'm9'].map((m) => alarm(m)));
  const after = flood();
  expect(after.version).toBe(before.version + 1);
  expect(after.occurrences).toBe(before.occurrences + 5);
  expect(after.members.map((m) => m.asset).slice(-5)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
  expect(store.outboxPending()).toBe(outbox + 1);
  expect(changes.filter((c) => c.ticket.id === after.id)).toHaveLength(1);
  expect(store.history(after.id).at(-1)).toMatchObject({ action: 'occurrence', members: 5, member: { asset: 'm9' } });
  // a raise that makes the flood more urgent starts a version of its own (it notifies); the next member joins that one
  rt.pushMany([alarm('m10'), alarm('m11', 'estop'), alarm('m12')]);
  const urgent = flood();
  expect(urgent.priority).toBe('P0');
  expect(urgent.occurrences).toBe(after.occurrences + 3);
  expect(urgent.version).toBe(after.version + 2);
  expect(store.history(urgent.id).slice(-2)).toMatchObject([{ member: { asset: 'm10' } }, { members: 2, member: { asset: 'm12' } }]);
  // one at a time (MQTT, replay): a version per member, as before
  rt.push(alarm('m13'));
  rt.push(alarm('m14'));
  expect(flood().version).toBe(urgent.version + 2);
  sub.unsubscribe();
  rt.stop();
});

it('members joined in place in a batch leave the flood ticket as members taken one at a time do: members, occurrences, evidence, last seen', async () => {
  const run = async (batched: boolean) => {
    const own = await TicketStore.open(join(dir, `${batched ? 'batched' : 'single'}.sqlite`));
    try {
      const clock = new VirtualScheduler(Date.parse('2026-03-01T08:00:00Z'));
      // each signal arrives 1 ms after the one before, inside a batch too (each member has a time of its own)
      const tags = createTagView(config);
      const record = tags.record.bind(tags);
      tags.record = (s, arrived) => {
        record(s, arrived);
        clock.advanceTo(clock.now() + 1);
      };
      const rt = createRuntime({ config, store: own, scheduler: clock, tags });
      const alarm = (m: string): Signal => ({ source: 'plc', tag: `hall/${m}/alarm`, value: true, quality: 'good', ts: clock.now() });
      const sizes = [4, 7, 1, 25, 3];
      let m = 0;
      for (const n of sizes) {
        const list = Array.from({ length: n }, () => alarm(`m${++m}`));
        if (batched) rt.pushMany(list);
        else for (const s of list) rt.push(s);
        clock.advanceTo(clock.now() + 1000);
      }
      rt.stop();
      const t = own.list({ fault: 'alarm-flood' }).items[0]!;
      return { t, versions: t.version, outbox: own.outboxPending() };
    } finally {
      await own.close();
    }
  };
  const single = await run(false);
  const batched = await run(true);
  const { members, occurrences, evidence, lastSeen, updatedAt, priority, condition, flags, firstOut } = single.t;
  expect(members).toHaveLength(40);
  expect(evidence).toHaveLength(20);
  expect(batched.t).toMatchObject({ members, occurrences, evidence, lastSeen, updatedAt, priority, condition, flags, firstOut });
  // one version per batch after the flood opened, against one per member
  expect(batched.versions).toBeLessThan(single.versions);
  expect(batched.t.history.at(-1)).toMatchObject({ action: 'occurrence', members: 3, member: { asset: 'm40' } });
});
