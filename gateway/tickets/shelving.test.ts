import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { AndonError } from '../../model/errors.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import { isShelved, type Ticket } from '../../model/ticket.ts';

// P1: respond within 30m (level 1 escalates at respondBy unless acknowledged), resolve within 8h.
const config = parseConfig(`
gateway: { id: shelving-test }
rules:
  - { id: alarms, when: { tag: "**/alarm", equals: true }, fault: alarm-stop, priority: P1 }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [duty] }
notify:
  duty: { type: webhook, url: "http://127.0.0.1:9/hook" }
shelving: { maxDuration: 4h }
`);

const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();

describe('shelving (ISA-18.2) in virtual time', () => {
  let dir: string;
  let file: string;
  let store: TicketStore;
  let clock: VirtualScheduler;
  let rt: Runtime;

  const start = async (now: number) => {
    store = await TicketStore.open(file);
    clock = new VirtualScheduler(now);
    rt = createRuntime({ config, store, scheduler: clock });
    clock.flush(now); // timers already due (after a restart) fire now
  };
  const restart = async (now: number) => {
    rt.stop();
    await store.close();
    await start(now);
  };
  const advance = (minutes: number) => clock.advanceTo(T0 + minutes * MIN);
  const alarm = (value: boolean) => rt.push({ source: 'plc', tag: 'press/press-1/alarm', value, quality: 'good', ts: clock.now() });
  const ticket = (): Ticket => store.liveByKey('press-1/alarm-stop') ?? (store.list().items[0] as Ticket);
  const act = (action: string, fields: Record<string, unknown> = {}, by = 'wang') =>
    rt.act({ type: 'transition', at: clock.now(), id: ticket().id, action, by, fields });
  const actions = () => ticket().history.map((h) => `${h.action}@${h.at}`);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-shelving-'));
    file = join(dir, 'andon.sqlite');
    await start(T0);
    alarm(true);
  });
  afterEach(async () => {
    rt.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shelve records shelvedUntil, shelvedReason and the event; isShelved follows the clock', () => {
    advance(5);
    act('shelve', { reason: 'press under repair', duration: '2h' });
    const t = ticket();
    expect(t).toMatchObject({ state: 'open', shelvedUntil: at(125), shelvedReason: 'press under repair' });
    expect(t.history.at(-1)).toEqual({ at: at(5), action: 'shelve', by: 'wang', reason: 'press under repair', until: at(125) });
    expect(isShelved(t, T0 + 124 * MIN)).toBe(true);
    expect(isShelved(t, T0 + 125 * MIN)).toBe(false);
  });

  it('every illegal shelve or unshelve is refused with a code and leaves no history event', async () => {
    advance(5);
    const refuse = (action: string, fields: Record<string, unknown>, code: string, path?: string) => {
      const before = { seq: store.changes.last(), version: ticket().version };
      let err: unknown;
      try {
        act(action, fields);
      } catch (e) {
        err = e;
      }
      expect(err, `${action} ${JSON.stringify(fields)}`).toBeInstanceOf(AndonError);
      expect((err as AndonError).code).toBe(code);
      if (path) expect((err as AndonError).path).toBe(path);
      expect({ seq: store.changes.last(), version: ticket().version }).toEqual(before);
    };
    refuse('shelve', { reason: 'r', duration: '5h' }, 'ANDON_TICKET_INVALID_FIELD', 'duration'); // over shelving.maxDuration (4h)
    refuse('shelve', { reason: 'r', until: at(5 + 241) }, 'ANDON_TICKET_INVALID_FIELD', 'until');
    refuse('shelve', { reason: 'r', until: at(4) }, 'ANDON_TICKET_INVALID_FIELD', 'until');
    refuse('shelve', { reason: 'r', duration: 'soon' }, 'ANDON_TICKET_INVALID_FIELD', 'duration');
    refuse('shelve', { duration: '1h' }, 'ANDON_TICKET_FIELD_REQUIRED', 'reason');
    refuse('shelve', { reason: 'r' }, 'ANDON_TICKET_FIELD_REQUIRED', 'duration');
    refuse('unshelve', {}, 'ANDON_TICKET_ILLEGAL_TRANSITION', 'action');
    expect(() =>
      rt.act({ type: 'transition', at: clock.now(), id: 'no-such-ticket', action: 'shelve', by: 'wang', fields: { reason: 'r', duration: '1h' } }),
    ).toThrow(expect.objectContaining({ code: 'ANDON_TICKET_NOT_FOUND' }));
    act('resolve', { resolution: 'fixed', rootCause: 'worn' });
    refuse('shelve', { reason: 'r', duration: '1h' }, 'ANDON_TICKET_ILLEGAL_TRANSITION', 'action');
    act('close', { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } });
    refuse('shelve', { reason: 'r', duration: '1h' }, 'ANDON_TICKET_ILLEGAL_TRANSITION', 'action');
    refuse('unshelve', {}, 'ANDON_TICKET_ILLEGAL_TRANSITION', 'action');
  });

  it('occurrences are still counted while shelved', () => {
    act('shelve', { reason: 'known chatter', duration: '1h' });
    advance(10);
    alarm(false);
    advance(20);
    alarm(true);
    const t = ticket();
    expect(t).toMatchObject({ occurrences: 2, lastSeen: at(20), condition: 'active', shelvedUntil: at(60) });
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(0)}`, `cleared@${at(10)}`, `occurrence@${at(20)}`]);
  });

  it('nothing escalates while shelved; what fell due fires at the automatic unshelve, after it', () => {
    advance(10);
    act('shelve', { reason: 'waiting for the fitter', duration: '2h' });
    advance(129); // respondBy (30m) passed long ago
    expect(ticket()).toMatchObject({ escalationLevel: 0, breaches: [], flags: [] });
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(10)}`]);
    advance(130);
    const t = ticket();
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(10)}`, `unshelved@${at(130)}`, `escalated@${at(130)}`]);
    expect(t.history[2]).toEqual({ at: at(130), action: 'unshelved', by: 'andon' });
    expect(t).toMatchObject({ shelvedUntil: null, shelvedReason: null, escalationLevel: 1, breaches: ['respond'] });
    expect(t.escalations).toEqual([{ level: 1, at: at(130), notified: ['duty'] }]);
  });

  it('an early unshelve fires the overdue escalation at once; one not yet due waits for its deadline', () => {
    act('shelve', { reason: 'r', duration: '1h' });
    advance(45);
    act('unshelve');
    clock.flush(clock.now());
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(0)}`, `unshelve@${at(45)}`, `escalated@${at(45)}`]);

    // another ticket, unshelved before its deadline: escalates at respondBy as usual
    rt.push({ source: 'plc', tag: 'press/press-2/alarm', value: true, quality: 'good', ts: clock.now() });
    const id = store.liveByKey('press-2/alarm-stop')!.id;
    rt.act({ type: 'transition', at: clock.now(), id, action: 'shelve', by: 'li', fields: { reason: 'r', duration: '10m' } });
    advance(45 + 29);
    expect(store.get(id)!.history.map((h) => h.action)).toEqual(['opened', 'shelve', 'unshelved']);
    advance(45 + 30);
    expect(store.get(id)!.history.map((h) => `${h.action}@${h.at}`)).toEqual([
      `opened@${at(45)}`,
      `shelve@${at(45)}`,
      `unshelved@${at(55)}`,
      `escalated@${at(75)}`,
    ]);
  });

  it('shelving again moves the end; an acknowledged ticket unshelves without escalating', () => {
    act('ack');
    act('shelve', { reason: 'r', duration: '1h' });
    advance(30);
    act('shelve', { reason: 'part on its way', duration: '3h' });
    advance(61);
    expect(ticket().shelvedUntil).toBe(at(210));
    advance(210);
    expect(actions()).toEqual([`opened@${at(0)}`, `ack@${at(0)}`, `shelve@${at(0)}`, `shelve@${at(30)}`, `unshelved@${at(210)}`]);
  });

  it('resolve ends the shelving; no unshelved event follows', () => {
    act('shelve', { reason: 'r', duration: '1h' });
    advance(20);
    act('resolve', { resolution: 'fixed', rootCause: 'worn' });
    advance(120);
    expect(ticket()).toMatchObject({ state: 'resolved', shelvedUntil: null, shelvedReason: null });
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(0)}`, `resolve@${at(20)}`]);
  });

  it('the automatic unshelve survives a restart: before the end it comes on time, after it at once', async () => {
    act('shelve', { reason: 'r', duration: '2h' });
    await restart(T0 + 60 * MIN); // the store file is reopened, timers come from the stored tickets
    advance(119);
    expect(ticket().shelvedUntil).toBe(at(120));
    advance(120);
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(0)}`, `unshelved@${at(120)}`, `escalated@${at(120)}`]);

    // shelved again, then the gateway is down past the end
    act('ack');
    act('shelve', { reason: 'r', duration: '1h' });
    await restart(T0 + 300 * MIN);
    expect(actions().slice(-3)).toEqual([`ack@${at(120)}`, `shelve@${at(120)}`, `unshelved@${at(300)}`]);
    expect(ticket().shelvedUntil).toBeNull();
  });

  it('after a restart past the end, what fell due while shelved escalates right after the unshelve', async () => {
    act('shelve', { reason: 'r', duration: '1h' });
    await restart(T0 + 90 * MIN);
    expect(actions()).toEqual([`opened@${at(0)}`, `shelve@${at(0)}`, `unshelved@${at(90)}`, `escalated@${at(90)}`]);
  });
});
