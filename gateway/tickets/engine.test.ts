import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import type { DetectCommand, TicketCommand } from '../../rules/types.ts';
import { isAndonError } from '../../model/errors.ts';
import { TICKET_DOC_KEYS } from '../../model/ticket.ts';
import { TicketStore } from '../store/store.ts';
import { TicketEngine, type TicketChange } from './engine.ts';

const T0 = Date.parse('2026-01-20T07:18:00.000Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const config = parseConfig(
  `
gateway: { id: plant-a-line-1, timezone: UTC }
priorities:
  P1: { respondWithin: 20m, resolveWithin: 6h }
  P2: { respondWithin: 2h, resolveWithin: 2d }
`,
  {},
);

let store: TicketStore;
let engine: TicketEngine;
let changes: TicketChange[];

beforeEach(async () => {
  store = await TicketStore.open(':memory:');
  let n = 0;
  engine = new TicketEngine({ store, config, newId: () => `T${String(++n).padStart(3, '0')}` });
  changes = [];
  engine.changes$.subscribe((c) => changes.push(c));
});
afterEach(async () => {
  await store.close();
});

function detect(key: string, at: number, over: Partial<DetectCommand> = {}): DetectCommand {
  const [asset = key, fault = 'alarm-stop'] = key.split('/');
  return {
    type: 'detect',
    at,
    key,
    asset,
    area: 'packaging',
    line: null,
    fault,
    category: 'hardware',
    rule: 'sealer-alarm',
    priority: 'P1',
    title: `${asset}: ${fault}`,
    assignedGroup: 'maintenance-packaging',
    notify: [],
    evidence: { tag: `packaging/${asset}/alarm/E21`, value: true, ts: at },
    flags: [],
    ...over,
  };
}

const act = (action: string, at: number, target: { id?: string; key?: string }, fields: Record<string, unknown> = {}, by = 'wang'): TicketCommand => ({ type: 'transition', at, action, by, fields, ...target });
const escalate = (id: string, at: number, level: number, over: Partial<Extract<TicketCommand, { type: 'escalate' }>> = {}): TicketCommand => ({
  type: 'escalate',
  at,
  id,
  level,
  notify: ['duty-supervisor'],
  breach: null,
  unless: 'acknowledged',
  ...over,
});
const resolution = { resolution: 'installed voltage stabilizer', rootCause: 'voltage sag on feeder 3' };
const checklist = { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } };

/** Opens a ticket for `key` and walks it to closed with `fix` as its resolution. */
function closedTicket(key: string, at: number, fix: string): string {
  const [t] = engine.apply(detect(key, at));
  const id = t?.id as string;
  engine.apply(act('resolve', at + MIN, { id }, { resolution: fix, rootCause: 'worn part' }));
  engine.apply(act('close', at + 2 * MIN, { id }, checklist));
  return id;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isAndonError(err) ? err.code : String(err);
  }
  return undefined;
}

/** Paths inside `value` that hold `undefined` (JSON would silently drop them). */
function undefinedPaths(value: unknown, path = '$'): string[] {
  if (value === undefined) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => undefinedPaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => undefinedPaths(v, `${path}.${k}`));
  return [];
}

const SECTION_4_FIELDS = [
  'id', 'version', 'key', 'gateway', 'asset', 'area', 'fault', 'category', 'priority', 'rule', 'title', 'state', 'condition',
  'openedAt', 'respondBy', 'resolveBy', 'firstSeen', 'lastSeen', 'occurrences', 'flags', 'recurrence', 'causes', 'members',
  'firstOut', 'assignedGroup', 'assignee', 'escalationLevel', 'escalations', 'evidence', 'similar', 'resolution', 'rootCause',
  'mergedInto', 'history', 'central',
];

describe('detect', () => {
  it('opens a ticket with every §4 field present and SLA deadlines from the priority table', () => {
    const [doc] = engine.apply(detect('sealer-01/alarm-stop', T0, { priority: 'P2' }));
    const t = store.get(doc?.id as string);

    expect(t).toBeDefined();
    expect(Object.keys(t ?? {})).toEqual(expect.arrayContaining(SECTION_4_FIELDS));
    // the doc has exactly the fields copyTicket knows, in its order (a new field must be added there too)
    expect(Object.keys(doc ?? {})).toEqual(TICKET_DOC_KEYS);
    expect(undefinedPaths(t)).toEqual([]);
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    expect(t).toMatchObject({
      id: 'T001',
      version: 1,
      key: 'sealer-01/alarm-stop',
      gateway: 'plant-a-line-1',
      asset: 'sealer-01',
      area: 'packaging',
      fault: 'alarm-stop',
      category: 'hardware',
      priority: 'P2',
      rule: 'sealer-alarm',
      title: 'sealer-01: alarm-stop',
      state: 'open',
      condition: 'active',
      openedAt: iso(T0),
      respondBy: iso(T0 + 2 * 3_600_000),
      resolveBy: iso(T0 + 2 * 86_400_000),
      firstSeen: iso(T0),
      lastSeen: iso(T0),
      occurrences: 1,
      flags: [],
      recurrence: null,
      causes: [],
      members: [],
      firstOut: null,
      assignedGroup: 'maintenance-packaging',
      assignee: null,
      escalationLevel: 0,
      escalations: [],
      evidence: [{ tag: 'packaging/sealer-01/alarm/E21', value: true, ts: iso(T0) }],
      similar: [],
      resolution: null,
      rootCause: null,
      mergedInto: null,
      central: null,
      history: [{ at: iso(T0), action: 'opened', by: 'andon', tag: 'packaging/sealer-01/alarm/E21', value: true }],
    });
  });

  it('takes the deadlines of the priority it opened with', () => {
    const [p1] = engine.apply(detect('sealer-01/alarm-stop', T0, { priority: 'P1' }));
    const [p0] = engine.apply(detect('filler-02/low-level', T0, { priority: 'P0' }));
    expect(p1).toMatchObject({ respondBy: iso(T0 + 20 * MIN), resolveBy: iso(T0 + 6 * 3_600_000) });
    // P0 is not in the config: the schema's default table
    expect(p0).toMatchObject({ respondBy: iso(T0 + 15 * MIN), resolveBy: iso(T0 + 4 * 3_600_000) });
  });

  it('adds an occurrence to the live ticket of the same key instead of opening a second', () => {
    const [first] = engine.apply(detect('sealer-01/alarm-stop', T0));
    engine.apply({ type: 'clear', at: T0 + MIN, key: 'sealer-01/alarm-stop', evidence: { tag: 'packaging/sealer-01/alarm/E21', value: false, ts: T0 + MIN } });
    const [second] = engine.apply(detect('sealer-01/alarm-stop', T0 + 5 * MIN, { flags: ['chattering'] }));

    expect(second?.id).toBe(first?.id);
    expect(store.list().total).toBe(1);
    expect(store.get(first?.id as string)).toMatchObject({
      version: 3,
      occurrences: 2,
      firstSeen: iso(T0),
      lastSeen: iso(T0 + 5 * MIN),
      condition: 'active',
      flags: ['chattering'],
      openedAt: iso(T0),
    });
    expect(store.history(first?.id as string).map((e) => e.action)).toEqual(['opened', 'cleared', 'occurrence']);
  });
});

describe('clear', () => {
  it('marks the live ticket cleared and leaves its state to people', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const clear: TicketCommand = { type: 'clear', at: T0 + MIN, key: 'sealer-01/alarm-stop', evidence: { tag: 'packaging/sealer-01/alarm/E21', value: false, ts: T0 + MIN } };

    const [cleared] = engine.apply(clear);
    expect(cleared).toMatchObject({ id: t?.id, version: 2, state: 'open', condition: 'cleared' });
    expect(cleared?.evidence.at(-1)).toEqual({ tag: 'packaging/sealer-01/alarm/E21', value: false, ts: iso(T0 + MIN) });

    // clearing again, or a key with no live ticket, changes nothing
    expect(engine.apply({ ...clear, at: T0 + 2 * MIN })).toEqual([]);
    expect(engine.apply({ ...clear, key: 'nobody/nothing' })).toEqual([]);
    expect(store.get(t?.id as string)?.version).toBe(2);
  });
});

describe('a key whose ticket is closed', () => {
  it('opens a new ticket and lists the closed ones as similar, same asset first', () => {
    const sameAsset = closedTicket('sealer-01/alarm-stop', T0, 'replaced relay K3');
    // more recent, but on another asset
    const elsewhere = closedTicket('sealer-02/alarm-stop', T0 + 60 * MIN, 'installed voltage stabilizer');
    closedTicket('sealer-01/motor-trip', T0 + 90 * MIN, 'other fault, not similar');
    const closedVersion = store.get(sameAsset)?.version;

    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0 + 120 * MIN));

    expect(t?.id).not.toBe(sameAsset);
    expect(t).toMatchObject({ version: 1, state: 'open', occurrences: 1 });
    expect(t?.similar).toEqual([
      { id: sameAsset, asset: 'sealer-01', fault: 'alarm-stop', state: 'closed', resolution: 'replaced relay K3', rootCause: 'worn part', resolvedAt: iso(T0 + MIN), solution: null, labels: [] },
      { id: elsewhere, asset: 'sealer-02', fault: 'alarm-stop', state: 'closed', resolution: 'installed voltage stabilizer', rootCause: 'worn part', resolvedAt: iso(T0 + 61 * MIN), solution: null, labels: [] },
    ]);
    // the fault is back within correlation.recurrence.within of the close: the new ticket names the fix that did
    // not hold, and the closed ticket's verification ends with a version saying so (it stays closed)
    expect(t?.previous).toEqual({ id: sameAsset, resolvedAt: iso(T0 + MIN), rootCause: 'worn part', resolution: 'replaced relay K3' });
    expect(t?.flags).toContain('recurred-after-fix');
    expect(store.get(sameAsset)).toMatchObject({ state: 'closed', version: (closedVersion as number) + 1, verifyBy: null });
    expect(store.get(sameAsset)?.history.at(-1)).toMatchObject({ action: 'recurred', by: 'andon', ticket: t?.id });
    expect(store.list({ fault: 'alarm-stop', asset: 'sealer-01' }).total).toBe(2);
  });
});

describe('transition', () => {
  it('moves a ticket by key and by id', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;

    expect(engine.apply(act('ack', T0 + MIN, { key: 'sealer-01/alarm-stop' }))[0]).toMatchObject({ id, state: 'acknowledged', acknowledgedAt: iso(T0 + MIN), version: 2 });
    expect(engine.apply(act('start', T0 + 2 * MIN, { id }))[0]).toMatchObject({ id, state: 'in_progress', version: 3 });
    expect(engine.apply(act('resolve', T0 + 3 * MIN, { id }, resolution))[0]).toMatchObject({ state: 'resolved', ...resolution, resolvedAt: iso(T0 + 3 * MIN) });
    expect(engine.apply(act('close', T0 + 4 * MIN, { key: 'sealer-01/alarm-stop' }, checklist))[0]).toMatchObject({ state: 'closed', closedAt: iso(T0 + 4 * MIN) });
    expect(store.history(id).map((e) => `${e.action}:${e.by}`)).toEqual(['opened:andon', 'ack:wang', 'start:wang', 'resolve:wang', 'close:wang']);

    // a closed key has no live ticket to move
    expect(codeOf(() => engine.apply(act('reopen', T0 + 5 * MIN, { key: 'sealer-01/alarm-stop' })))).toBe('ANDON_TICKET_NOT_FOUND');
  });

  it('writes no history event and no outbox row when the lifecycle refuses', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;
    const before = { ticket: store.get(id), outbox: store.outboxPending(), emitted: changes.length };

    expect(codeOf(() => engine.apply(act('start', T0 + MIN, { id })))).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
    expect(codeOf(() => engine.apply(act('close', T0 + MIN, { id }, checklist)))).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
    expect(codeOf(() => engine.apply(act('resolve', T0 + MIN, { id }, { resolution: 'fixed' })))).toBe('ANDON_TICKET_FIELD_REQUIRED');
    expect(codeOf(() => engine.apply(act('dance', T0 + MIN, { id })))).toBe('ANDON_TICKET_UNKNOWN_ACTION');

    expect(store.get(id)).toEqual(before.ticket);
    expect(store.outboxPending()).toBe(before.outbox);
    expect(changes).toHaveLength(before.emitted);
  });

  it('answers ANDON_TICKET_NOT_FOUND for an unknown id or key', () => {
    engine.apply(detect('sealer-01/alarm-stop', T0));
    expect(codeOf(() => engine.apply(act('ack', T0, { id: 'NOPE' })))).toBe('ANDON_TICKET_NOT_FOUND');
    expect(codeOf(() => engine.apply(act('ack', T0, { key: 'nobody/nothing' })))).toBe('ANDON_TICKET_NOT_FOUND');
    expect(codeOf(() => engine.apply(act('ack', T0, {})))).toBe('ANDON_TICKET_NOT_FOUND');
    expect(codeOf(() => engine.apply({ type: 'comment', at: T0, id: 'NOPE', by: 'wang', text: 'hello' }))).toBe('ANDON_TICKET_NOT_FOUND');
    expect(store.outboxPending()).toBe(1);
  });
});

describe('escalate', () => {
  it('raises the level once and records who was notified', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;

    const [raised] = engine.apply(escalate(id, T0 + 20 * MIN, 1));
    expect(raised).toMatchObject({ version: 2, escalationLevel: 1, escalations: [{ level: 1, at: iso(T0 + 20 * MIN), notified: ['duty-supervisor'] }] });
    expect(store.history(id).at(-1)).toEqual({ at: iso(T0 + 20 * MIN), action: 'escalated', by: 'andon', level: 1, notified: ['duty-supervisor'] });

    // the same escalation again (a timer re-armed after a restart) changes nothing
    expect(engine.apply(escalate(id, T0 + 21 * MIN, 1))).toEqual([]);
    const [level2] = engine.apply(escalate(id, T0 + 40 * MIN, 2, { notify: ['plant-manager'] }));
    expect(level2?.escalations.map((e) => e.level)).toEqual([1, 2]);
    expect(store.get(id)?.version).toBe(3);
  });

  it('flags an SLA breach once', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;

    const [breached] = engine.apply(escalate(id, T0 + 20 * MIN, 0, { breach: 'respond', notify: [] }));
    expect(breached).toMatchObject({ version: 2, flags: ['sla-breached'], breaches: ['respond'], escalationLevel: 0 });
    expect(store.history(id).at(-1)).toMatchObject({ action: 'sla-breached', breach: 'respond' });

    expect(engine.apply(escalate(id, T0 + 25 * MIN, 0, { breach: 'respond', notify: [] }))).toEqual([]);
    const [both] = engine.apply(escalate(id, T0 + 6 * 60 * MIN, 1, { breach: 'resolve', unless: 'resolved' }));
    expect(both).toMatchObject({ flags: ['sla-breached'], breaches: ['respond', 'resolve'], escalationLevel: 1 });
    expect(store.history(id).at(-1)).toMatchObject({ action: 'escalated', breach: 'resolve', level: 1 });
  });

  it('does nothing once the ticket is acknowledged or resolved, as its `unless` says', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;
    engine.apply(act('ack', T0 + MIN, { id }));

    expect(engine.apply(escalate(id, T0 + 20 * MIN, 1, { breach: 'respond', unless: 'acknowledged' }))).toEqual([]);
    expect(engine.apply(escalate(id, T0 + 30 * MIN, 1, { unless: 'resolved' }))[0]).toMatchObject({ escalationLevel: 1 });

    engine.apply(act('resolve', T0 + 40 * MIN, { id }, resolution));
    expect(engine.apply(escalate(id, T0 + 6 * 60 * MIN, 2, { breach: 'resolve', unless: 'resolved' }))).toEqual([]);
    engine.apply(act('close', T0 + 7 * 60 * MIN, { id }, checklist));
    expect(engine.apply(escalate(id, T0 + 8 * 60 * MIN, 3, { unless: 'resolved' }))).toEqual([]);
    expect(engine.apply(escalate('NOPE', T0, 1))).toEqual([]);

    expect(store.get(id)).toMatchObject({ state: 'closed', escalationLevel: 1, breaches: [], flags: [] });
  });
});

describe('flood', () => {
  it('opens a flood ticket and merges the tickets its alarms opened since the flood began', () => {
    const since = T0 + 10 * MIN;
    const [older] = engine.apply(detect('conveyor-01/motor-trip', T0));
    const [atStart] = engine.apply(detect('conveyor-02/motor-trip', since));
    const [later] = engine.apply(detect('sealer-01/alarm-stop', since + MIN));
    const member = (asset: string, fault: string, at: number) => ({ asset, fault, at });

    const applied = engine.apply({
      ...detect('packaging/alarm-flood', since + 2 * MIN, { asset: null, fault: 'alarm-flood', title: 'alarm flood in packaging', priority: 'P1' }),
      type: 'flood',
      members: [member('conveyor-02', 'motor-trip', since), member('sealer-01', 'alarm-stop', since + MIN), member('filler-03', 'low-level', since + 90_000)],
      firstOut: member('conveyor-02', 'motor-trip', since),
      mergeKeys: ['conveyor-01/motor-trip', 'conveyor-02/motor-trip', 'sealer-01/alarm-stop', 'nobody/nothing'],
      since,
    });

    const flood = applied[0];
    expect(applied.map((t) => t.id)).toEqual([flood?.id, atStart?.id, later?.id]);
    expect(flood).toMatchObject({
      fault: 'alarm-flood',
      asset: null,
      state: 'open',
      flags: ['flood'],
      occurrences: 3,
      firstOut: { asset: 'conveyor-02', fault: 'motor-trip', at: iso(since) },
      members: [
        { asset: 'conveyor-02', fault: 'motor-trip', at: iso(since) },
        { asset: 'sealer-01', fault: 'alarm-stop', at: iso(since + MIN) },
        { asset: 'filler-03', fault: 'low-level', at: iso(since + 90_000) },
      ],
    });
    expect(undefinedPaths(store.get(flood?.id as string))).toEqual([]);
    for (const merged of [atStart, later]) {
      expect(store.get(merged?.id as string)).toMatchObject({ state: 'merged', mergedInto: flood?.id, version: 2 });
      expect(store.history(merged?.id as string).at(-1)).toEqual({ at: iso(since + 2 * MIN), action: 'merged', by: 'andon', into: flood?.id });
    }
    // opened before the flood began: stays its own ticket
    expect(store.get(older?.id as string)).toMatchObject({ state: 'open', mergedInto: null, version: 1 });
    expect(store.liveByKey('conveyor-02/motor-trip')).toBeUndefined();
  });
});

describe('comment', () => {
  it('adds a history event and a new version', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;
    const [commented] = engine.apply({ type: 'comment', at: T0 + MIN, id, by: 'wang', text: 'checked the seal bar' });

    expect(commented).toMatchObject({ version: 2, state: 'open' });
    expect(store.history(id).at(-1)).toEqual({ at: iso(T0 + MIN), action: 'comment', by: 'wang', text: 'checked the seal bar' });
    expect(store.outboxPending()).toBe(2);
    expect(codeOf(() => engine.apply({ type: 'comment', at: T0 + MIN, id, by: 'wang', text: '  ' }))).toBe('ANDON_TICKET_FIELD_REQUIRED');
    expect(store.get(id)?.version).toBe(2);
  });
});

describe('who acted', () => {
  it('a transition or comment records the authenticated actor next to the free-text by; without one there is no actor', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;
    engine.apply({ type: 'transition', at: T0 + MIN, id, action: 'ack', by: 'night shift', actor: 'control-room', fields: {} });
    engine.apply({ type: 'comment', at: T0 + 2 * MIN, id, by: 'li', actor: 'control-room', text: 'seal bar hot' });
    engine.apply({ type: 'transition', at: T0 + 3 * MIN, id, action: 'shelve', by: 'li', actor: 'control-room', fields: { reason: 'repair', duration: '1h' } });
    engine.apply(act('unshelve', T0 + 4 * MIN, { id }));
    const [, ack, comment, shelve, unshelve] = store.history(id);
    expect(ack).toEqual({ at: iso(T0 + MIN), action: 'ack', by: 'night shift', actor: 'control-room' });
    expect(comment).toMatchObject({ action: 'comment', by: 'li', actor: 'control-room' });
    expect(shelve).toMatchObject({ action: 'shelve', by: 'li', actor: 'control-room' });
    expect(unshelve).toEqual({ at: iso(T0 + 4 * MIN), action: 'unshelve', by: 'wang' }); // replay, central: nobody authenticated
    expect(store.get(id)?.history.map((e) => e.actor ?? null)).toEqual([null, 'control-room', 'control-room', 'control-room', null]);
  });
});

describe('every change', () => {
  it('bumps the version by one and is emitted on changes$ with its history event', () => {
    const [t] = engine.apply(detect('sealer-01/alarm-stop', T0));
    const id = t?.id as string;
    const returned = [t];
    const commands: TicketCommand[] = [
      detect('sealer-01/alarm-stop', T0 + MIN),
      { type: 'clear', at: T0 + 2 * MIN, key: 'sealer-01/alarm-stop', evidence: { tag: 'packaging/sealer-01/alarm/E21', value: false, ts: T0 + 2 * MIN } },
      escalate(id, T0 + 20 * MIN, 1, { breach: 'respond' }),
      act('ack', T0 + 21 * MIN, { id }),
      { type: 'comment', at: T0 + 22 * MIN, id, by: 'li', text: 'on my way' },
      act('start', T0 + 23 * MIN, { id }),
      act('wait', T0 + 24 * MIN, { id }, { reason: 'parts', partNumber: 'K3-relay', eta: iso(T0 + 2 * 3_600_000) }),
      act('resume', T0 + 3 * 3_600_000, { id }),
      act('resolve', T0 + 4 * 3_600_000, { id }, resolution),
      act('reopen', T0 + 5 * 3_600_000, { id }, { reason: 'came back' }),
    ];
    for (const c of commands) returned.push(...engine.apply(c));

    expect(changes.map((c) => c.ticket)).toEqual(returned);
    expect(changes.map((c) => c.ticket.version)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    for (const c of changes) {
      expect(c.ticket.id).toBe(id);
      expect(c.ticket.version).toBe((c.previous?.version ?? 0) + 1);
      expect(c.ticket.updatedAt).toBe(c.event.at);
    }
    expect(changes[0]?.previous).toBeNull();
    expect(changes.slice(1).map((c) => c.command)).toEqual(commands);

    const stored = store.get(id);
    expect(stored).toMatchObject({ version: 11, state: 'in_progress', resolution: null, wait: null });
    expect(stored?.history).toEqual(changes.map((c) => c.event));
    expect(store.outboxPending()).toBe(11);
  });
});
