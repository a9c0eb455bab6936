import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { replay } from '../replay.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';

/**
 * Routing to the person on duty and escalation to the supervisor on duty, through the real runtime and a
 * SQLite file, in virtual time (Europe/Berlin: CET +1, from 2026-03-29 02:00 local CEST +2).
 * Day shift 06:00-18:00 (wang, supervisor zhao), night shift 18:00-06:00 (li, supervisor qian).
 */
const config = parseConfig(
  `
gateway: { id: oncall-engine-test, timezone: Europe/Berlin }
rules:
  - { id: alarms, when: { tag: "**/alarm", equals: true }, fault: alarm-stop, priority: P1 }
  - { id: temps, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P3 }
routing:
  - { match: { asset: boiler-1 }, assign: utilities }
  - { match: {}, assign: maintenance, notify: [control-room] }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, onDuty: [ { role: supervisor } ] }
  - { after: 2h, unless: resolved, level: 2, notify: [control-room], onDuty: [ { group: maintenance, role: onCall } ] }
notify:
  control-room: { type: webhook, url: "http://127.0.0.1:9/room" }
  wang-phone: { type: webhook, url: "http://127.0.0.1:9/wang" }
  li-phone: { type: webhook, url: "http://127.0.0.1:9/li" }
  zhao-phone: { type: webhook, url: "http://127.0.0.1:9/zhao" }
  qian-phone: { type: webhook, url: "http://127.0.0.1:9/qian" }
schedules:
  people:
    wang: { name: Wang Wei, notify: wang-phone }
    li: { name: Li Na, notify: li-phone }
    zhao: { name: Zhao Lei, notify: zhao-phone }
    qian: { name: Qian Yu, notify: qian-phone }
  groups:
    maintenance:
      rotationStart: "2026-03-23"
      shifts:
        - { id: day, start: "06:00", end: "18:00", onCall: [wang], supervisor: [zhao] }
        - { id: night, start: "18:00", end: "06:00", onCall: [li], supervisor: [qian] }
    utilities:
      rotationStart: "2026-03-23"
      shifts: [ { id: office, start: "08:00", end: "16:00", days: [Mon, Tue, Wed, Thu, Fri], onCall: [wang], supervisor: [zhao] } ]
`,
  {},
);

describe('routing and escalation to the people on duty (virtual time, SQLite file)', () => {
  let dir: string;
  let store: TicketStore;
  let clock: VirtualScheduler;
  let rt: Runtime;

  const startAt = async (iso: string) => {
    store = await TicketStore.open(join(dir, 'andon.sqlite'));
    clock = new VirtualScheduler(Date.parse(iso));
    rt = createRuntime({ config, store, scheduler: clock });
  };
  const raise = (asset: string, tag = 'alarm', value: number | boolean = true) =>
    rt.push({ source: 'plc', tag: `line/${asset}/${tag}`, value, quality: 'good', ts: clock.now() });
  const ticketOf = (asset: string, fault = 'alarm-stop') => store.liveByKey(`${asset}/${fault}`)!;
  const queued = (ticketId: string) =>
    store.notifications
      .list({ parked: false, limit: 100 })
      .items.filter((n) => n.ticketId === ticketId)
      .map((n) => `${n.kind}:${n.channel}`);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'andon-oncall-'));
  });
  afterEach(async () => {
    rt.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a ticket opened before the shift change goes to the day shift; its escalation after the change reaches the night supervisor', async () => {
    await startAt('2026-03-24T16:50:00Z'); // 17:50 CET, day shift
    raise('sealer-1');
    const t = ticketOf('sealer-1');
    expect(t).toMatchObject({ assignedGroup: 'maintenance', assignee: 'wang', notify: ['control-room', 'wang-phone'] });
    expect(t.history[0]).toMatchObject({ action: 'opened', assignee: 'wang' });
    // P1 at opening: the route's channel and the assignee's
    expect(queued(t.id)).toEqual(['opened:control-room', 'opened:wang-phone']);

    // respondBy is 30 min later, 18:20 CET: the night shift's supervisor is on duty then
    clock.advanceTo(Date.parse('2026-03-24T17:20:00Z'));
    const escalated = ticketOf('sealer-1');
    expect(escalated.escalationLevel).toBe(1);
    expect(escalated.escalations).toEqual([{ level: 1, at: '2026-03-24T17:20:00.000Z', notified: ['qian-phone'] }]);
    expect(escalated.history.find((h) => h.action === 'escalated')).toMatchObject({
      level: 1,
      notified: ['qian-phone'],
      onDuty: [{ group: 'maintenance', role: 'supervisor', person: 'qian' }],
    });
    expect(queued(t.id)).toContain('escalated:qian-phone');
    expect(queued(t.id)).not.toContain('escalated:zhao-phone');

    // level 2 at 2h (19:50 CET) names the on-call person of the group now (li), next to its fixed channel
    clock.advanceTo(Date.parse('2026-03-24T18:50:00Z'));
    expect(ticketOf('sealer-1').escalations[1]).toEqual({ level: 2, at: '2026-03-24T18:50:00.000Z', notified: ['control-room', 'li-phone'] });
  });

  it('a ticket after the shift change goes to the night shift', async () => {
    await startAt('2026-03-24T17:00:00Z'); // 18:00 CET
    raise('sealer-2');
    expect(ticketOf('sealer-2')).toMatchObject({ assignee: 'li', notify: ['control-room', 'li-phone'] });
  });

  it('the morning handover follows local time across the spring DST change', async () => {
    // 2026-03-28 05:30Z is 06:30 CET: the day shift has taken over
    await startAt('2026-03-28T05:30:00Z');
    raise('press-1');
    expect(ticketOf('press-1').assignee).toBe('wang');
    // 2026-03-29 03:59Z is 05:59 CEST: still the night shift; 04:00Z is 06:00 CEST: the day shift
    clock.advanceTo(Date.parse('2026-03-29T03:59:00Z'));
    raise('press-2');
    expect(ticketOf('press-2').assignee).toBe('li');
    clock.advanceTo(Date.parse('2026-03-29T04:00:00Z'));
    raise('press-3');
    expect(ticketOf('press-3').assignee).toBe('wang');
  });

  it('nobody on duty: no assignee, and the escalation says nobody was reached', async () => {
    // Saturday 2026-03-28 10:00 CET: the utilities office is closed
    await startAt('2026-03-28T09:00:00Z');
    raise('boiler-1');
    const t = ticketOf('boiler-1');
    expect(t).toMatchObject({ assignedGroup: 'utilities', assignee: null, notify: [] });
    expect(t.history[0]).not.toHaveProperty('assignee');
    clock.advanceTo(Date.parse('2026-03-28T09:30:00Z'));
    const e = ticketOf('boiler-1').history.find((h) => h.action === 'escalated');
    expect(e).toMatchObject({ level: 1, notified: [], onDuty: [{ group: 'utilities', role: 'supervisor', person: null }] });
  });

  it('a P3 ticket is assigned but notifies nobody at opening, as before', async () => {
    await startAt('2026-03-24T10:00:00Z');
    raise('oven-1', 'temperature', 95);
    const t = ticketOf('oven-1', 'overtemp');
    expect(t.assignee).toBe('wang');
    expect(queued(t.id)).toEqual([]);
  });
});

describe('replay assigns and escalates by the records\' time', () => {
  it('across the spring DST change, as the live gateway would have', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-oncall-replay-'));
    try {
      const record = (t: string, asset: string) => JSON.stringify({ t, tag: `line/${asset}/alarm`, value: true, source: 'plc' });
      const { tickets } = await replay({
        config,
        db: join(dir, 'replay.sqlite'),
        now: Date.parse('2026-04-01T00:00:00Z'),
        input: [
          record('2026-03-28T04:30:00Z', 'press-1'), // 05:30 CET: night shift
          record('2026-03-29T04:30:00Z', 'press-2'), // 06:30 CEST: day shift (the same UTC time a day later)
          record('2026-03-29T16:20:00Z', 'press-3'), // 18:20 CEST: night; its respondBy at 16:50Z escalates to qian
          record('2026-03-29T17:00:00Z', 'press-4'),
        ],
      });
      const byAsset = Object.fromEntries(tickets.map((t) => [t.asset, t]));
      expect(byAsset['press-1']?.assignee).toBe('li');
      expect(byAsset['press-2']?.assignee).toBe('wang');
      expect(byAsset['press-3']?.assignee).toBe('li');
      expect(byAsset['press-3']?.escalations[0]).toEqual({ level: 1, at: '2026-03-29T16:50:00.000Z', notified: ['qian-phone'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
