import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { AndonConfig } from '../config/schema.ts';
import { createRuntime, type Runtime } from '../gateway/runtime.ts';
import { TicketStore } from '../gateway/store/store.ts';
import { verifyAfter } from '../gateway/tickets/engine.ts';
import type { Ticket } from '../model/ticket.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';

// The closed loop (issue 13, items 1 and 2): a fault that comes back after a fix reopens its ticket or links the
// closed one; a fault that stays quiet long enough verifies the fix. Real store file, real rules, virtual time.

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const yaml = (extra = '') => `
gateway: { id: loop-test, timezone: Europe/Berlin }
rules:
  - { id: stops, when: { tag: "**/alarm/stop", equals: true }, fault: machine-stop, priority: P1 }
  - { id: lubes, when: { tag: "**/alarm/lube", equals: true }, fault: low-lube, priority: P3 }
priorities:
  P1: { respondWithin: 15m, resolveWithin: 4h }
routing:
  - { match: {}, assign: maintenance, notify: [duty] }
escalation:
  - { after: 20m, unless: acknowledged, level: 1, notify: [supervisor] }
notify:
  duty: { type: webhook, url: "http://127.0.0.1:9/duty" }
  supervisor: { type: webhook, url: "http://127.0.0.1:9/supervisor" }
${extra}`;

const dir = mkdtempSync(join(tmpdir(), 'andon-loop-'));
let file: string;
let n = 0;
let store: TicketStore;
let rt: Runtime;
let clock: VirtualScheduler;

async function start(config: AndonConfig, at: number) {
  store = await TicketStore.open(file);
  clock = new VirtualScheduler(at);
  rt = createRuntime({ config, store, scheduler: clock, random: () => 0.5 });
}
async function stop() {
  rt.stop();
  await store.close();
}
beforeEach(() => {
  file = join(dir, `loop-${++n}.sqlite`);
});
afterEach(async () => {
  await stop().catch(() => {});
});

const T0 = Date.parse('2026-03-02T06:00:00Z');
/** The stop alarm of `asset` goes `value` at the clock's time. */
const stopAlarm = (asset: string, value: boolean) => rt.push({ source: 'plc', tag: `press/${asset}/alarm/stop`, value, quality: 'good', ts: clock.now() });
/** The fault raises again: it clears first, as a PLC bit does. */
const raiseAgain = (asset: string) => {
  stopAlarm(asset, false);
  stopAlarm(asset, true);
};
const act = (id: string, action: string, fields: Record<string, unknown> = {}) => rt.act({ type: 'transition', at: clock.now(), id, action, by: 'li', fields });
const resolve = (id: string) => act(id, 'resolve', { resolution: 'replaced proximity switch', rootCause: 'switch worn' });
const close = (id: string) => act(id, 'close', { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } });
const ticket = (id: string) => store.get(id) as Ticket;
const only = (key: string) => store.liveByKey(key) as Ticket;
const actions = (id: string) => ticket(id).history.map((e) => e.action);
const queued = () => store.notifications.list({ parked: false, limit: 100 }).items.map((q) => `${q.kind}:${q.channel}`);

describe('a fault that comes back after its ticket was resolved', () => {
  it('reopens the ticket as a new one of its priority would open: acknowledgement cleared, SLA and escalation from the reopen, notified', async () => {
    await start(parseConfig(yaml()), T0);
    stopAlarm('press-1', true);
    const id = only('press-1/machine-stop').id;
    clock.advanceTo(T0 + 25 * MIN); // nobody acknowledged: escalated to level 1
    expect(ticket(id)).toMatchObject({ escalationLevel: 1, breaches: ['respond'] });
    act(id, 'ack');
    resolve(id);
    expect(ticket(id)).toMatchObject({ state: 'resolved', verifyBy: new Date(T0 + 25 * MIN + 7 * DAY).toISOString() });
    const before = queued().length;

    clock.advanceTo(T0 + 3 * HOUR);
    raiseAgain('press-1');
    const t = ticket(id);
    const at = new Date(T0 + 3 * HOUR).toISOString();
    expect(t).toMatchObject({
      state: 'open',
      acknowledgedAt: null,
      reopenedAt: at,
      respondBy: new Date(T0 + 3 * HOUR + 15 * MIN).toISOString(),
      resolveBy: new Date(T0 + 3 * HOUR + 4 * HOUR).toISOString(),
      escalationLevel: 0,
      breaches: [],
      resolution: null,
      rootCause: null,
      resolvedAt: null,
      verifyBy: null,
      previous: { id, resolvedAt: new Date(T0 + 25 * MIN).toISOString(), rootCause: 'switch worn', resolution: 'replaced proximity switch' },
    });
    expect(t.flags).toContain('recurred-after-fix');
    expect(t.history.at(-1)).toMatchObject({ at, action: 'reopened', by: 'andon', resolution: 'replaced proximity switch', rootCause: 'switch worn' });
    expect(queued().slice(before)).toEqual(['reopened:duty']);
    expect(store.liveByKey('press-1/machine-stop')?.id).toBe(id); // still the one ticket of its key

    // escalation starts over from the reopen: level 1 again 20 minutes later, not at once
    clock.advanceTo(T0 + 3 * HOUR + 19 * MIN);
    expect(ticket(id).escalationLevel).toBe(0);
    clock.advanceTo(T0 + 3 * HOUR + 21 * MIN);
    expect(ticket(id)).toMatchObject({ escalationLevel: 1, breaches: ['respond'] });
    expect(queued().slice(before)).toEqual(['reopened:duty', 'escalated:supervisor']);
  });

  it("a person's reopen keeps its meaning: in progress, no flag, and the fix is no longer being verified", async () => {
    await start(parseConfig(yaml()), T0);
    stopAlarm('press-1', true);
    const id = only('press-1/machine-stop').id;
    resolve(id);
    act(id, 'reopen', { reason: 'still noisy' });
    expect(ticket(id)).toMatchObject({ state: 'in_progress', verifyBy: null, reopenedAt: null, previous: null });
    expect(ticket(id).flags).not.toContain('recurred-after-fix');
    expect(actions(id).at(-1)).toBe('reopen');
    clock.advanceTo(T0 + 30 * DAY);
    expect(ticket(id).flags).not.toContain('fix-verified');
  });

  it('a P3 reopened notifies nobody, as a new P3 would not', async () => {
    await start(parseConfig(yaml()), T0);
    rt.push({ source: 'plc', tag: 'press/press-2/alarm/lube', value: true, quality: 'good', ts: clock.now() });
    const id = only('press-2/low-lube').id;
    resolve(id);
    clock.advanceTo(T0 + HOUR);
    rt.push({ source: 'plc', tag: 'press/press-2/alarm/lube', value: false, quality: 'good', ts: clock.now() });
    rt.push({ source: 'plc', tag: 'press/press-2/alarm/lube', value: true, quality: 'good', ts: clock.now() });
    expect(ticket(id)).toMatchObject({ state: 'open' });
    expect(queued()).toEqual([]);
  });
});

describe('a fault that comes back after its ticket was closed', () => {
  it('within correlation.recurrence.within of the close: the new ticket carries the previous fix, the old one records the recurrence', async () => {
    await start(parseConfig(yaml('correlation: { recurrence: { count: 3, within: 2d } }')), T0);
    stopAlarm('press-1', true);
    const old = only('press-1/machine-stop').id;
    resolve(old);
    close(old);
    clock.advanceTo(T0 + 36 * HOUR);
    raiseAgain('press-1');
    const fresh = only('press-1/machine-stop');
    expect(fresh.id).not.toBe(old);
    expect(fresh.previous).toEqual({ id: old, resolvedAt: new Date(T0).toISOString(), rootCause: 'switch worn', resolution: 'replaced proximity switch' });
    expect(fresh.flags).toContain('recurred-after-fix');
    expect(fresh.history[0]).toMatchObject({ action: 'opened', previous: old });
    expect(ticket(old)).toMatchObject({ state: 'closed', verifyBy: null });
    expect(ticket(old).history.at(-1)).toMatchObject({ action: 'recurred', by: 'andon', ticket: fresh.id });
    // the old fix is never verified now
    clock.advanceTo(T0 + 30 * DAY);
    expect(ticket(old).flags).not.toContain('fix-verified');
  });

  it('after the window: a new ticket with no link (but the fix still failed if it was being verified)', async () => {
    await start(parseConfig(yaml('correlation: { recurrence: { count: 3, within: 1h }, verifyFix: { after: 30d } }')), T0);
    stopAlarm('press-1', true);
    const old = only('press-1/machine-stop').id;
    resolve(old);
    close(old);
    clock.advanceTo(T0 + 2 * DAY);
    raiseAgain('press-1');
    const fresh = only('press-1/machine-stop');
    expect(fresh.previous).toBeNull();
    expect(fresh.flags).not.toContain('recurred-after-fix');
    expect(ticket(old).history.at(-1)).toMatchObject({ action: 'recurred', ticket: fresh.id });
  });
});

describe('fix verification', () => {
  it('a fix that stays quiet 7 days (not recurring) gets fix-verified, as a version with its own history event', async () => {
    await start(parseConfig(yaml()), T0);
    stopAlarm('press-1', true);
    const id = only('press-1/machine-stop').id;
    resolve(id);
    close(id);
    clock.advanceTo(T0 + 7 * DAY - MIN);
    expect(ticket(id).flags).not.toContain('fix-verified');
    clock.advanceTo(T0 + 7 * DAY);
    const t = ticket(id);
    expect(t).toMatchObject({ state: 'closed', verifyBy: null });
    expect(t.flags).toContain('fix-verified');
    expect(t.history.at(-1)).toEqual({ at: new Date(T0 + 7 * DAY).toISOString(), action: 'fix-verified', by: 'andon', quietSince: new Date(T0).toISOString() });
    // it is a version like any other: an outbox row for central
    expect(store.outbox.head(id)?.version).toBe(t.version);
  });

  it('a daily recurring fault needs three quiet days; a weekly one three weeks', async () => {
    await start(parseConfig(yaml()), T0);
    const config = parseConfig(yaml());
    const daily = { recurrence: { count: 3, pattern: 'daily' as const, at: '16:00', day: null, spreadMinutes: 5, next: null } };
    const weekly = { recurrence: { count: 3, pattern: 'weekly' as const, at: '16:00', day: 'Mon', spreadMinutes: 5, next: null } };
    expect(verifyAfter(config, daily)).toBe(3 * DAY);
    expect(verifyAfter(config, weekly)).toBe(21 * DAY);
    expect(verifyAfter(config, { recurrence: { ...daily.recurrence, pattern: 'irregular' } })).toBe(7 * DAY);
    expect(verifyAfter(config, { recurrence: null })).toBe(7 * DAY);
    expect(verifyAfter(parseConfig(yaml('correlation: { verifyFix: { after: 12h } }')), daily)).toBe(12 * HOUR);

    // end to end: three daily episodes at 16:00 local make it recurring; its resolve is verified 3 days later
    const local16 = Date.parse('2026-03-02T15:00:00Z'); // 16:00 in Berlin (CET)
    let id = '';
    for (let d = 0; d < 3; d++) {
      clock.advanceTo(local16 + d * DAY);
      stopAlarm('press-3', true);
      id = only('press-3/machine-stop').id;
      clock.advanceTo(local16 + d * DAY + 10 * MIN);
      stopAlarm('press-3', false);
    }
    expect(ticket(id).recurrence?.pattern).toBe('daily');
    resolve(id);
    const resolvedAt = clock.now();
    expect(ticket(id).verifyBy).toBe(new Date(resolvedAt + 3 * DAY).toISOString());
    clock.advanceTo(resolvedAt + 3 * DAY);
    expect(ticket(id).flags).toContain('fix-verified');
  });

  it('survives a restart: a closed ticket verifying its fix is verified by the next run, even after its deadline passed', async () => {
    const config = parseConfig(yaml());
    await start(config, T0);
    stopAlarm('press-1', true);
    const id = only('press-1/machine-stop').id;
    resolve(id);
    close(id);
    await stop();
    // down for 9 days: the deadline passed while nobody ran
    await start(config, T0 + 9 * DAY);
    clock.advanceTo(T0 + 9 * DAY);
    expect(ticket(id).flags).toContain('fix-verified');
    expect(ticket(id).history.at(-1)).toMatchObject({ action: 'fix-verified', at: new Date(T0 + 9 * DAY).toISOString() });
  });

  it('a fault back after verification: the flag goes and the recurrence rules apply', async () => {
    await start(parseConfig(yaml()), T0);
    stopAlarm('press-1', true);
    const id = only('press-1/machine-stop').id;
    resolve(id);
    clock.advanceTo(T0 + 8 * DAY);
    expect(ticket(id).flags).toContain('fix-verified');
    raiseAgain('press-1');
    expect(ticket(id)).toMatchObject({ state: 'open' });
    expect(ticket(id).flags).toContain('recurred-after-fix');
    expect(ticket(id).flags).not.toContain('fix-verified');

    // closed and verified, back within the recurrence window: the old ticket loses its flag
    resolve(id);
    close(id);
    clock.advanceTo(T0 + 16 * DAY);
    expect(ticket(id).flags).toContain('fix-verified');
    raiseAgain('press-1');
    expect(only('press-1/machine-stop').previous?.id).toBe(id);
    expect(ticket(id).flags).not.toContain('fix-verified');
    expect(ticket(id).history.at(-1)).toMatchObject({ action: 'recurred', wasVerified: true });
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
