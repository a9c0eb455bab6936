import { describe, expect, it } from 'vitest';
import { AndonError } from '../../model/errors.ts';
import { ACTIONS, allowedFrom, transition, type LifecycleLimits } from './lifecycle.ts';
import { STATES, type TicketDoc, type TicketState } from '../../model/ticket.ts';
import { ticketDoc as baseDoc } from '../../test/ticket-fixture.ts';

const OPENED = '2026-01-20T07:18:00.000Z';
const AT = Date.parse('2026-01-20T07:30:00.000Z');

/** The fixture's complete stored ticket (contracts §Ticket JSON) at version 3 in `state`, with what that state carries; override any field. */
function ticketDoc(state: TicketState, overrides: Partial<TicketDoc> = {}): TicketDoc {
  return baseDoc(
    {
      id: '01JH7TESTTICKET0000000000',
      version: 3,
      state,
      notify: [],
      evidence: [{ tag: 'packaging/sealer-01/alarm/E21', value: true, ts: OPENED }],
      wait: state === 'waiting' ? { reason: 'coordination', partNumber: null, eta: null } : null,
      resolution: state === 'resolved' || state === 'closed' ? 'replaced heater band' : null,
      rootCause: state === 'resolved' || state === 'closed' ? 'heater band worn' : null,
      mergedInto: state === 'merged' ? '01JH7FLOODTICKET000000000' : null,
      ...overrides,
    },
    Date.parse(OPENED),
  );
}

const deepFreeze = <T>(o: T): T => {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
};

/** The error `fn` throws; fails the test when it does not throw an AndonError. */
function refusal(fn: () => unknown): AndonError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AndonError);
    return err as AndonError;
  }
  throw new Error('expected the transition to be refused, but it succeeded');
}

/** Tries `action` on a ticket in `state`; asserts the input is left exactly as it was and returns the error. */
function refused(ticket: TicketDoc, action: string, fields: Record<string, unknown> = {}, by = 'wang', limits?: LifecycleLimits): AndonError {
  const before = structuredClone(ticket);
  const err = refusal(() => transition(ticket, action, by, AT, fields, limits));
  expect(ticket).toEqual(before);
  return err;
}

const FULL_CHECKLIST = { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true };

/** Valid fields for every action, so a refusal can only come from the state. */
const VALID_FIELDS: Record<(typeof ACTIONS)[number], Record<string, unknown>> = {
  ack: {},
  start: {},
  wait: { reason: 'parts', partNumber: 'HB-220-40', eta: '2026-01-22T08:00:00.000Z' },
  resume: {},
  resolve: { resolution: 'replaced heater band', rootCause: 'heater band worn' },
  close: { checklist: FULL_CHECKLIST },
  reopen: {},
  assign: { assignee: 'li' },
  shelve: { reason: 'sensor under repair', duration: '2h' },
  unshelve: {},
};

/** Ticket fields an action needs besides its state (unshelve: a ticket that is shelved). */
const SETUP: Partial<Record<(typeof ACTIONS)[number], Partial<TicketDoc>>> = {
  unshelve: { shelvedUntil: '2026-01-20T09:00:00.000Z', shelvedReason: 'sensor under repair' },
};

/**
 * The state machine of contracts §Ticket JSON, written out here independently of the
 * implementation: action -> states it is allowed from. `assign` changes who,
 * not the state, and is allowed while the ticket is live (not closed or merged).
 */
const SPEC: Record<(typeof ACTIONS)[number], TicketState[]> = {
  ack: ['open'],
  start: ['acknowledged'],
  wait: ['in_progress'],
  resume: ['waiting'],
  resolve: ['open', 'acknowledged', 'in_progress'],
  close: ['resolved'],
  reopen: ['resolved'],
  assign: ['open', 'acknowledged', 'in_progress', 'waiting', 'resolved'],
  // ISA-18.2 shelving: live alarms only, the state stays
  shelve: ['open', 'acknowledged', 'in_progress', 'waiting'],
  unshelve: ['open', 'acknowledged', 'in_progress', 'waiting'],
};
const TARGET: Record<(typeof ACTIONS)[number], TicketState | 'same'> = {
  ack: 'acknowledged',
  start: 'in_progress',
  wait: 'waiting',
  resume: 'in_progress',
  resolve: 'resolved',
  close: 'closed',
  reopen: 'in_progress',
  assign: 'same',
  shelve: 'same',
  unshelve: 'same',
};

describe('the state machine of contracts §Lifecycle', () => {
  it('knows the ten lifecycle actions and seven states', () => {
    expect([...ACTIONS].sort()).toEqual(Object.keys(SPEC).sort());
    expect([...STATES].sort()).toEqual(['acknowledged', 'closed', 'in_progress', 'merged', 'open', 'resolved', 'waiting']);
  });

  it.each(ACTIONS)('allowedFrom(%s) is the table of the design', (action) => {
    expect([...allowedFrom(action)].sort()).toEqual([...SPEC[action]].sort());
  });

  const legal = ACTIONS.flatMap((action) => SPEC[action].map((state) => ({ state, action })));
  const illegal = STATES.flatMap((state) => ACTIONS.filter((action) => !SPEC[action].includes(state)).map((action) => ({ state, action })));

  it('the table has 22 legal and 48 illegal (state, action) pairs', () => {
    expect(legal).toHaveLength(22);
    expect(illegal).toHaveLength(48);
  });

  it.each(legal)('$action is allowed from $state', ({ state, action }) => {
    const ticket = deepFreeze(ticketDoc(state, SETUP[action]));
    const { ticket: next, event } = transition(ticket, action, 'wang', AT, VALID_FIELDS[action]);
    expect(next.state).toBe(TARGET[action] === 'same' ? state : TARGET[action]);
    expect(event).toMatchObject({ at: '2026-01-20T07:30:00.000Z', action, by: 'wang' });
    expect(ticket.state).toBe(state);
  });

  it.each(illegal)('$action is refused from $state with ANDON_TICKET_ILLEGAL_TRANSITION', ({ state, action }) => {
    const err = refused(ticketDoc(state, SETUP[action]), action, VALID_FIELDS[action]);
    expect(err.code).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
    expect(err.status).toBe(409);
    expect(err.path).toBe('action');
    expect(err.message).toContain(`cannot ${action} a ticket that is ${state}`);
  });

  it('an illegal move is refused before its fields are looked at', () => {
    expect(refused(ticketDoc('closed'), 'wait', {}).code).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
  });
});

describe('legal moves and what they record', () => {
  it('ack: open -> acknowledged, stamps acknowledgedAt', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('open')), 'ack', 'wang', AT);
    expect(ticket).toMatchObject({ state: 'acknowledged', acknowledgedAt: '2026-01-20T07:30:00.000Z' });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'ack', by: 'wang' });
  });

  it('start: acknowledged -> in_progress, everything else kept', () => {
    const before = ticketDoc('acknowledged', { acknowledgedAt: OPENED });
    const { ticket, event } = transition(deepFreeze(before), 'start', 'wang', AT);
    expect(ticket).toEqual({ ...before, state: 'in_progress' });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'start', by: 'wang' });
  });

  it('wait for parts: records reason, partNumber and eta (normalised to UTC ISO)', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('in_progress')), 'wait', 'wang', AT, {
      reason: 'parts',
      partNumber: 'HB-220-40',
      eta: '2026-01-22T08:00:00+08:00',
    });
    expect(ticket.state).toBe('waiting');
    expect(ticket.wait).toEqual({ reason: 'parts', partNumber: 'HB-220-40', eta: '2026-01-22T00:00:00.000Z' });
    expect(event).toEqual({
      at: '2026-01-20T07:30:00.000Z',
      action: 'wait',
      by: 'wang',
      reason: 'parts',
      partNumber: 'HB-220-40',
      eta: '2026-01-22T00:00:00.000Z',
    });
  });

  it('wait for external support: no part number, eta optional', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('in_progress')), 'wait', 'wang', AT, { reason: 'external-support' });
    expect(ticket).toMatchObject({ state: 'waiting', wait: { reason: 'external-support', partNumber: null, eta: null } });
    expect(event).toMatchObject({ reason: 'external-support', partNumber: null, eta: null });

    const withEta = transition(ticketDoc('in_progress'), 'wait', 'wang', AT, { reason: 'external-support', eta: '2026-01-21T09:00:00.000Z' });
    expect(withEta.ticket.wait).toEqual({ reason: 'external-support', partNumber: null, eta: '2026-01-21T09:00:00.000Z' });
  });

  it('wait for coordination', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('in_progress')), 'wait', 'wang', AT, { reason: 'coordination', note: 'next shift change' });
    expect(ticket).toMatchObject({ state: 'waiting', wait: { reason: 'coordination', partNumber: null, eta: null } });
    expect(event).toMatchObject({ action: 'wait', reason: 'coordination', note: 'next shift change' });
  });

  it('resume: waiting -> in_progress, clears the wait', () => {
    const waiting = ticketDoc('waiting', { wait: { reason: 'parts', partNumber: 'HB-220-40', eta: '2026-01-22T00:00:00.000Z' } });
    const { ticket, event } = transition(deepFreeze(waiting), 'resume', 'li', AT);
    expect(ticket).toMatchObject({ state: 'in_progress', wait: null });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'resume', by: 'li' });
  });

  it.each(['open', 'acknowledged', 'in_progress'] as const)('resolve from %s records resolution, rootCause and resolvedAt', (state) => {
    const { ticket, event } = transition(deepFreeze(ticketDoc(state)), 'resolve', 'wang', AT, {
      resolution: 'installed voltage stabilizer',
      rootCause: 'voltage sag on feeder-3',
    });
    expect(ticket).toMatchObject({
      state: 'resolved',
      resolution: 'installed voltage stabilizer',
      rootCause: 'voltage sag on feeder-3',
      resolvedAt: '2026-01-20T07:30:00.000Z',
      wait: null,
    });
    expect(event).toEqual({
      at: '2026-01-20T07:30:00.000Z',
      action: 'resolve',
      by: 'wang',
      resolution: 'installed voltage stabilizer',
      rootCause: 'voltage sag on feeder-3',
    });
  });

  it('close with the full checklist: resolved -> closed, stamps closedAt and the checklist', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('resolved')), 'close', 'zhao', AT, { checklist: FULL_CHECKLIST });
    expect(ticket).toMatchObject({ state: 'closed', closedAt: '2026-01-20T07:30:00.000Z', checklist: FULL_CHECKLIST });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'close', by: 'zhao', checklist: FULL_CHECKLIST });
  });

  it('close with a configured checklist (lifecycle.closeChecklist): its items, not the default ones, must be true', () => {
    const limits: LifecycleLimits = { maxShelve: 8 * 3_600_000, checklist: ['lockoutRemoved', 'areaCleaned'] };
    const resolved = deepFreeze(ticketDoc('resolved'));
    const refusal = (checklist: unknown) => {
      try {
        transition(resolved, 'close', 'zhao', AT, { checklist }, limits);
      } catch (e) {
        return { code: (e as AndonError).code, path: (e as AndonError).path, message: (e as AndonError).message };
      }
      return null;
    };
    expect(refusal(FULL_CHECKLIST)).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'checklist', message: expect.stringContaining('lockoutRemoved, areaCleaned') });
    expect(refusal({ lockoutRemoved: true })).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED', message: expect.stringContaining('not confirmed: areaCleaned') });
    expect(refusal(JSON.parse('{"__proto__": {"lockoutRemoved": true}, "areaCleaned": true}'))).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED' });
    const { ticket, event } = transition(resolved, 'close', 'zhao', AT, { checklist: { lockoutRemoved: true, areaCleaned: true, extra: false } }, limits);
    expect(ticket.checklist).toEqual({ lockoutRemoved: true, areaCleaned: true });
    expect(event.checklist).toEqual({ lockoutRemoved: true, areaCleaned: true });
    // An empty checklist: close needs none.
    expect(transition(resolved, 'close', 'zhao', AT, {}, { maxShelve: 1, checklist: [] }).ticket).toMatchObject({ state: 'closed', checklist: {} });
  });

  it('reopen: resolved -> in_progress, clears the resolution; the reason goes into the event', () => {
    const resolved = ticketDoc('resolved', { resolvedAt: OPENED });
    const { ticket, event } = transition(deepFreeze(resolved), 'reopen', 'zhao', AT, { reason: 'alarm came back' });
    expect(ticket).toMatchObject({ state: 'in_progress', resolution: null, rootCause: null, resolvedAt: null });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'reopen', by: 'zhao', reason: 'alarm came back' });
  });

  it('assign sets assignee and group without changing the state', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('waiting')), 'assign', 'zhao', AT, { assignee: 'li', group: 'maintenance-general' });
    expect(ticket).toMatchObject({ state: 'waiting', assignee: 'li', assignedGroup: 'maintenance-general' });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'assign', by: 'zhao', assignee: 'li', group: 'maintenance-general' });
  });

  it('assign with assignee null unassigns', () => {
    const { ticket, event } = transition(deepFreeze(ticketDoc('open', { assignee: 'li' })), 'assign', 'zhao', AT, { assignee: null });
    expect(ticket.assignee).toBeNull();
    expect(ticket.assignedGroup).toBe('maintenance-packaging');
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'assign', by: 'zhao', assignee: null });
  });

  it('the full path open -> ... -> closed walks through every state once', () => {
    const steps: [string, Record<string, unknown>, TicketState][] = [
      ['ack', {}, 'acknowledged'],
      ['start', {}, 'in_progress'],
      ['wait', { reason: 'parts', partNumber: 'HB-220-40', eta: '2026-01-22T08:00:00.000Z' }, 'waiting'],
      ['resume', {}, 'in_progress'],
      ['resolve', { resolution: 'replaced heater band', rootCause: 'heater band worn' }, 'resolved'],
      ['reopen', {}, 'in_progress'],
      ['resolve', { resolution: 'replaced controller', rootCause: 'controller drift' }, 'resolved'],
      ['close', { checklist: FULL_CHECKLIST }, 'closed'],
    ];
    let ticket = ticketDoc('open');
    const seen: TicketState[] = [];
    steps.forEach(([action, fields, to], i) => {
      ticket = transition(deepFreeze(ticket), action, 'wang', AT + i * 60_000, fields).ticket;
      expect(ticket.state).toBe(to);
      seen.push(ticket.state);
    });
    expect(seen).toEqual(steps.map((s) => s[2]));
    expect(ticket).toMatchObject({ resolution: 'replaced controller', rootCause: 'controller drift', wait: null, closedAt: '2026-01-20T07:37:00.000Z' });
  });
});

describe('required and invalid fields', () => {
  const cases: { name: string; state: TicketState; action: string; fields: Record<string, unknown>; code: string; path: string }[] = [
    { name: 'wait without reason', state: 'in_progress', action: 'wait', fields: {}, code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'reason' },
    { name: 'wait with an empty reason', state: 'in_progress', action: 'wait', fields: { reason: '' }, code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'reason' },
    {
      name: 'wait with an unknown reason',
      state: 'in_progress',
      action: 'wait',
      fields: { reason: 'lunch' },
      code: 'ANDON_TICKET_INVALID_FIELD',
      path: 'reason',
    },
    {
      name: 'wait with a reason that is not text',
      state: 'in_progress',
      action: 'wait',
      fields: { reason: 42 },
      code: 'ANDON_TICKET_INVALID_FIELD',
      path: 'reason',
    },
    {
      name: 'wait for parts without partNumber',
      state: 'in_progress',
      action: 'wait',
      fields: { reason: 'parts', eta: '2026-01-22T08:00:00.000Z' },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'partNumber',
    },
    {
      name: 'wait for parts without eta',
      state: 'in_progress',
      action: 'wait',
      fields: { reason: 'parts', partNumber: 'HB-220-40' },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'eta',
    },
    {
      name: 'wait for parts with an eta that is no date',
      state: 'in_progress',
      action: 'wait',
      fields: { reason: 'parts', partNumber: 'HB-220-40', eta: 'next tuesday' },
      code: 'ANDON_TICKET_INVALID_FIELD',
      path: 'eta',
    },
    {
      name: 'wait for support with an eta that is no date',
      state: 'in_progress',
      action: 'wait',
      fields: { reason: 'external-support', eta: 'soon' },
      code: 'ANDON_TICKET_INVALID_FIELD',
      path: 'eta',
    },
    {
      name: 'resolve without resolution',
      state: 'in_progress',
      action: 'resolve',
      fields: { rootCause: 'heater band worn' },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'resolution',
    },
    {
      name: 'resolve without rootCause',
      state: 'in_progress',
      action: 'resolve',
      fields: { resolution: 'replaced heater band' },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'rootCause',
    },
    {
      name: 'resolve with a resolution over 4000 characters',
      state: 'open',
      action: 'resolve',
      fields: { resolution: 'x'.repeat(4001), rootCause: 'y' },
      code: 'ANDON_TICKET_INVALID_FIELD',
      path: 'resolution',
    },
    { name: 'close without checklist', state: 'resolved', action: 'close', fields: {}, code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'checklist' },
    {
      name: 'close with checklist null',
      state: 'resolved',
      action: 'close',
      fields: { checklist: null },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'checklist',
    },
    {
      name: 'close with one checklist item false',
      state: 'resolved',
      action: 'close',
      fields: { checklist: { ...FULL_CHECKLIST, partsRecorded: false } },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'checklist',
    },
    {
      name: 'close with one checklist item missing',
      state: 'resolved',
      action: 'close',
      fields: { checklist: { customerInformed: true, partsRecorded: true } },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'checklist',
    },
    {
      name: 'close with a checklist item "yes" instead of true',
      state: 'resolved',
      action: 'close',
      fields: { checklist: { ...FULL_CHECKLIST, customerInformed: 'yes' } },
      code: 'ANDON_TICKET_FIELD_REQUIRED',
      path: 'checklist',
    },
    {
      name: 'assign with an assignee that is not text',
      state: 'open',
      action: 'assign',
      fields: { assignee: 7 },
      code: 'ANDON_TICKET_INVALID_FIELD',
      path: 'assignee',
    },
    { name: 'shelve without reason', state: 'open', action: 'shelve', fields: { duration: '1h' }, code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'reason' },
    { name: 'shelve without duration or until', state: 'open', action: 'shelve', fields: { reason: 'r' }, code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'duration' },
    { name: 'shelve with both duration and until', state: 'open', action: 'shelve', fields: { reason: 'r', duration: '1h', until: '2026-01-20T08:00:00.000Z' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'until' },
    { name: 'shelve with a duration that is no duration', state: 'open', action: 'shelve', fields: { reason: 'r', duration: 'a while' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'duration' },
    { name: 'shelve with a duration that is a number', state: 'open', action: 'shelve', fields: { reason: 'r', duration: 3600 }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'duration' },
    { name: 'shelve for 0s', state: 'open', action: 'shelve', fields: { reason: 'r', duration: '0s' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'duration' },
    { name: 'shelve longer than maxDuration (8h)', state: 'open', action: 'shelve', fields: { reason: 'r', duration: '8.01h' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'duration' },
    { name: 'shelve for 9h', state: 'acknowledged', action: 'shelve', fields: { reason: 'r', duration: '9h' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'duration' },
    { name: 'shelve until a past time', state: 'in_progress', action: 'shelve', fields: { reason: 'r', until: '2026-01-20T07:00:00.000Z' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'until' },
    { name: 'shelve until now', state: 'waiting', action: 'shelve', fields: { reason: 'r', until: '2026-01-20T07:30:00.000Z' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'until' },
    { name: 'shelve until after maxDuration', state: 'open', action: 'shelve', fields: { reason: 'r', until: '2026-01-20T15:30:00.001Z' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'until' },
    { name: 'shelve until no date', state: 'open', action: 'shelve', fields: { reason: 'r', until: 'tomorrow' }, code: 'ANDON_TICKET_INVALID_FIELD', path: 'until' },
  ];

  it.each(cases)('$name -> $code at $path, ticket unchanged', ({ state, action, fields, code, path }) => {
    const err = refused(ticketDoc(state), action, fields);
    expect(err.code).toBe(code);
    expect(err.path).toBe(path);
    expect(err.status).toBe(422);
  });

  it('the close refusal names the items not confirmed', () => {
    const err = refused(ticketDoc('resolved'), 'close', { checklist: { customerInformed: true, partsRecorded: false } });
    expect(err.message).toMatch(/not confirmed: partsRecorded, knowledgeBaseChecked$/);
  });
});

describe('shelving (ISA-18.2)', () => {
  it('shelve for a duration: state kept, shelvedUntil and shelvedReason set, the event has reason and until', () => {
    const before = ticketDoc('acknowledged');
    const { ticket, event } = transition(deepFreeze(before), 'shelve', 'wang', AT, { reason: 'sensor under repair', duration: '2h' });
    expect(ticket).toEqual({ ...before, shelvedUntil: '2026-01-20T09:30:00.000Z', shelvedReason: 'sensor under repair' });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'shelve', by: 'wang', reason: 'sensor under repair', until: '2026-01-20T09:30:00.000Z' });
  });

  it('shelve until a time, up to exactly maxDuration (normalised to UTC ISO)', () => {
    const { ticket } = transition(ticketDoc('open'), 'shelve', 'wang', AT, { reason: 'r', until: '2026-01-20T23:30:00+08:00' });
    expect(ticket.shelvedUntil).toBe('2026-01-20T15:30:00.000Z');
  });

  it('maxDuration comes from the limits (config shelving.maxDuration)', () => {
    expect(refused(ticketDoc('open'), 'shelve', { reason: 'r', duration: '2h' }, 'wang', { maxShelve: 3_600_000 }).message).toContain('shelving.maxDuration (1h)');
    expect(transition(ticketDoc('open'), 'shelve', 'wang', AT, { reason: 'r', duration: '1h' }, { maxShelve: 3_600_000 }).ticket.shelvedUntil).toBe('2026-01-20T08:30:00.000Z');
  });

  it('a shelved ticket can be shelved again (a new end, within the limit from now)', () => {
    const shelved = ticketDoc('open', SETUP.unshelve);
    const { ticket } = transition(deepFreeze(shelved), 'shelve', 'li', AT, { reason: 'still waiting for the part', duration: '4h' });
    expect(ticket).toMatchObject({ shelvedUntil: '2026-01-20T11:30:00.000Z', shelvedReason: 'still waiting for the part' });
  });

  it('unshelve ends it early; a ticket that is not shelved (or no longer) cannot be unshelved', () => {
    const shelved = ticketDoc('in_progress', SETUP.unshelve);
    const { ticket, event } = transition(deepFreeze(shelved), 'unshelve', 'wang', AT);
    expect(ticket).toEqual({ ...shelved, shelvedUntil: null, shelvedReason: null });
    expect(event).toEqual({ at: '2026-01-20T07:30:00.000Z', action: 'unshelve', by: 'wang' });
    const never = refused(ticketDoc('open'), 'unshelve');
    expect(never.code).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
    expect(never.message).toBe('cannot unshelve a ticket that is not shelved');
    const expired = refused(ticketDoc('open', { shelvedUntil: '2026-01-20T07:30:00.000Z', shelvedReason: 'r' }), 'unshelve');
    expect(expired.code).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
  });

  it('resolve ends a shelving with the alarm', () => {
    const { ticket } = transition(ticketDoc('in_progress', SETUP.unshelve), 'resolve', 'wang', AT, VALID_FIELDS.resolve);
    expect(ticket).toMatchObject({ state: 'resolved', shelvedUntil: null, shelvedReason: null });
  });
});

describe('who and what', () => {
  it.each(['delete', 'opened', 'escalated', 'ACK', ''])('%j is not a lifecycle action: ANDON_TICKET_UNKNOWN_ACTION', (action) => {
    const err = refused(ticketDoc('open'), action);
    expect(err.code).toBe('ANDON_TICKET_UNKNOWN_ACTION');
    expect(err.path).toBe('action');
    expect(err.status).toBe(400);
  });

  it.each(['', '   '])('by %j is refused with ANDON_TICKET_FIELD_REQUIRED at by', (by) => {
    const err = refused(ticketDoc('open'), 'ack', {}, by);
    expect(err.code).toBe('ANDON_TICKET_FIELD_REQUIRED');
    expect(err.path).toBe('by');
  });

  it('the event carries at (ISO of the given ms), action, by, and a note when given', () => {
    const { event } = transition(ticketDoc('open'), 'ack', 'wang', Date.parse('2026-03-01T00:00:00.250Z'), { note: 'on my way' });
    expect(event).toEqual({ at: '2026-03-01T00:00:00.250Z', action: 'ack', by: 'wang', note: 'on my way' });
  });

  it('the returned ticket is a new object; the input is not mutated', () => {
    const input = ticketDoc('in_progress');
    const before = structuredClone(input);
    const { ticket } = transition(input, 'wait', 'wang', AT, VALID_FIELDS.wait);
    expect(ticket).not.toBe(input);
    expect(input).toEqual(before);
  });
});
