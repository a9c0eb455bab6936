import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ticketDoc } from '../../test/ticket-fixture.ts';
import { MESSAGES } from '../i18n.ts';
import type { TicketDoc } from '../../model/ticket.ts';
import { useMessages } from './i18n.js';
import { age, badges, compareTickets, counts, countdown, floods, fmtValue, latestDetail, pendingWarning, recurrenceLabel, sla, TicketBook, warningLabel } from './model.js';

/**
 * The board's pure model under Node (the same module the browser loads, no DOM):
 * sorting, SLA clocks, badges, readings, recurrence labels and the ticket book.
 * test/board/board.test.ts checks it in Chromium against a real gateway.
 */
const MIN = 60_000;
const NOW = Date.parse('2026-01-20T08:00:00.000Z');
const at = (min: number) => new Date(NOW + min * MIN).toISOString();
/** A ticket opened 5 min ago whose respondBy and resolveBy are `respondMin` and `resolveMin` from now. */
const ticket = (id: string, over: Partial<TicketDoc> = {}, respondMin = 25, resolveMin = 475): TicketDoc =>
  ticketDoc({ id, respondBy: at(respondMin), resolveBy: at(resolveMin), ...over }, NOW - 5 * MIN);
const acked = { state: 'acknowledged', acknowledgedAt: at(-1) } as const;
const fmtTime = (iso: string) => `[${iso.slice(11, 16)}]`;

beforeEach(() => useMessages(MESSAGES.en, 'en'));
afterEach(() => useMessages({}, 'en'));

describe('sorting', () => {
  it('priority first, then the SLA deadline that applies now (respond until acknowledged, then resolve), then the oldest', () => {
    const list = [
      ticket('a', { priority: 'P1', ...acked }, -20, 60),
      ticket('b', { priority: 'P1' }, 10, 480),
      ticket('c', { priority: 'P0' }, 14, 240),
      ticket('d', { priority: 'P1' }, 20, 480),
      ticket('f', { priority: 'P1', openedAt: at(-30) }, 20, 480),
    ];
    expect([...list].sort((x, y) => compareTickets(x, y, NOW)).map((t) => t.id)).toEqual(['c', 'b', 'f', 'd', 'a']);
  });
});

describe('SLA clock and countdowns', () => {
  it('counts down to respondBy until someone acknowledges, then to resolveBy; past the deadline it is breached', () => {
    expect(sla(ticket('x', {}, 10, 480), NOW)).toEqual({ kind: 'respond', due: Date.parse(at(10)), left: 10 * MIN, breached: false, missed: false });
    expect(sla(ticket('x', acked, -20, 60), NOW)).toMatchObject({ kind: 'resolve', left: 60 * MIN, breached: false });
    expect(sla(ticket('x', {}, -1, 480), NOW)).toMatchObject({ kind: 'respond', left: -MIN, breached: true, missed: false });
    // a breach the gateway recorded counts even before the deadline here (clock skew); any recorded breach marks the ticket missed
    expect(sla(ticket('x', { breaches: ['respond'] }, 1, 480), NOW)).toMatchObject({ kind: 'respond', breached: true, missed: true });
    expect(sla(ticket('x', { ...acked, breaches: ['respond'] }, -20, 60), NOW)).toMatchObject({ kind: 'resolve', breached: false, missed: true });
    expect(sla(ticket('x', { flags: ['sla-breached'] }), NOW).missed).toBe(true);
  });

  it('formats countdowns and ages in the locale', () => {
    expect([countdown(-65_000), countdown(59_000), countdown(3_723_000), countdown(3 * 86_400_000 + 4 * 3_600_000)]).toEqual([
      '+1:05',
      '0:59',
      '1:02:03',
      '3d 04h',
    ]);
    expect([age(45_000), age(12 * MIN), age(185 * MIN), age((2 * 24 + 4) * 60 * MIN), age(-5)]).toEqual(['45s', '12m', '3h 05m', '2d 4h', '0s']);
    useMessages(MESSAGES['zh-CN'], 'zh-CN');
    expect(countdown(3 * 86_400_000 + 4 * 3_600_000)).toBe('3天 04时');
  });
});

describe('readings and labels', () => {
  it('shows numbers to 7 significant digits with their unit, other values as JSON', () => {
    expect([
      fmtValue(221.39999389648438),
      fmtValue(207),
      fmtValue(true),
      fmtValue('E21'),
      fmtValue(0.000123456789),
      fmtValue(196.39999389648438, 'V'),
      fmtValue(null),
    ]).toEqual(['221.4', '207', 'true', '"E21"', '0.0001234568', '196.4 V', 'null']);
    expect(latestDetail({ evidence: [{ tag: 'utilities/feeder-3/voltage', value: 196.39999389648438, ts: at(0), unit: 'V' }] })).toBe(
      'utilities/feeder-3/voltage = 196.4 V',
    );
    expect(
      latestDetail({
        evidence: [
          { tag: 'a', value: 1, ts: at(0), message: 'seal jaw fault' },
          { tag: 'b', value: 2, ts: at(1) },
        ],
      }),
    ).toBe('seal jaw fault');
    expect(latestDetail({ evidence: [] })).toBe('');
  });

  it('labels recurrence patterns (daily, weekly with the day, irregular with the count)', () => {
    expect([
      recurrenceLabel({ count: 5, pattern: 'daily', at: '16:00', day: null, spreadMinutes: 3, next: null }),
      recurrenceLabel({ count: 4, pattern: 'weekly', at: '06:30', day: 'Mon', spreadMinutes: 2, next: null }),
      recurrenceLabel({ count: 3, pattern: 'irregular', at: null, day: null, spreadMinutes: null, next: null }),
      recurrenceLabel(null),
    ]).toEqual(['daily ~16:00', 'weekly Mon ~06:30', 'irregular ×3', '']);
  });
});

describe('badges', () => {
  it('none for a plain open ticket', () => {
    expect(badges(ticket('x'), NOW, fmtTime)).toEqual([]);
  });

  it('in reading order, each with its kind, text and title', () => {
    const t = ticket('x', {
      flags: ['flood', 'recurring', 'recurred-after-fix', 'fix-verified', 'chattering'],
      members: [
        { asset: 'a', fault: 'f', at: at(0) },
        { asset: 'b', fault: 'f', at: at(0) },
      ],
      recurrence: { count: 5, pattern: 'weekly', at: '16:00', day: 'Tue', spreadMinutes: 4.5, next: null },
      previous: { id: 'T0', resolvedAt: at(-60), rootCause: 'loose terminal', resolution: null },
      escalationLevel: 2,
      breaches: ['respond'],
      shelvedUntil: at(30),
      shelvedReason: 'heater band ordered',
      condition: 'cleared',
      wait: { reason: 'parts', partNumber: null, eta: '2026-01-21' },
      causes: [{ fault: 'voltage-sag', asset: 'feeder-3', support: 5, of: 5, leadSeconds: 60, maxLeadSeconds: 60, source: 'discovered' }],
    });
    expect(badges(t, NOW, fmtTime)).toEqual([
      { kind: 'flood', text: 'flood · 2 alarms' },
      { kind: 'recurring', text: '↻ weekly Tue ~16:00', title: '5 episodes, spread ±4.5 min (gateway time)' },
      { kind: 'recurred', text: '↺ back after fix', title: 'last fix: — (root cause: loose terminal)' },
      { kind: 'verified', text: '✓ fix verified' },
      { kind: 'chattering', text: 'chattering' },
      { kind: 'escalated', text: 'ESC 2' },
      { kind: 'breached', text: 'SLA missed' },
      { kind: 'shelved', text: 'shelved until [08:30]', title: 'heater band ordered' },
      { kind: 'cleared', text: 'cleared' },
      expect.objectContaining({ kind: 'waiting', text: expect.stringMatching(/^waiting: .+ \(eta 2026-01-21\)$/) }),
      expect.objectContaining({ kind: 'cause', text: 'cause? feeder-3 voltage-sag 1m before (5/5)' }),
    ]);
  });

  it('a flood counts membersTotal from the stream; shelving ends at shelvedUntil; back-after-fix goes once resolved', () => {
    const flood = ticket('x', { fault: 'alarm-flood', members: [], membersTotal: 500 } as Partial<TicketDoc>);
    expect(badges(flood, NOW, fmtTime)).toEqual([{ kind: 'flood', text: 'flood · 500 alarms' }]);
    expect(badges(ticket('x', { shelvedUntil: at(-1), shelvedReason: 'r' }), NOW, fmtTime)).toEqual([]);
    expect(badges(ticket('x', { state: 'resolved', flags: ['recurred-after-fix'] }), NOW, fmtTime)).toEqual([]);
  });
});

describe('early warning banner', () => {
  const w = (outcome: 'pending' | 'confirmed' | 'missed', cause: TicketDoc['warnings'][number]['cause'] = { asset: 'feeder-3', fault: 'voltage-sag', support: 4, of: 5 }) => ({
    id: `t:${outcome}`,
    at: at(-1),
    cause,
    leadSeconds: 60,
    expectedBy: at(1),
    outcome,
    settledAt: null,
    actualLeadSeconds: null,
  });
  it('shows the newest pending warning, none once settled or while the ticket is shelved', () => {
    expect(pendingWarning(ticket('a'), NOW)).toBeNull();
    expect(pendingWarning(ticket('b', { warnings: [w('pending'), w('confirmed')] }), NOW)?.id).toBe('t:pending');
    expect(pendingWarning(ticket('c', { warnings: [w('missed')] }), NOW)).toBeNull();
    expect(pendingWarning(ticket('d', { warnings: [w('pending')], shelvedUntil: at(60), shelvedReason: 'x' }), NOW)).toBeNull();
  });
  it('names the cause and how often it came true, or the pattern', () => {
    expect(warningLabel(w('pending'))).toBe('⚠ Early warning · feeder-3 voltage-sag, 4 of 5 times');
    expect(warningLabel(w('pending', { pattern: 'weekly', support: 3 }))).toBe('⚠ Early warning · recurs weekly');
  });
});

describe('TicketBook', () => {
  it('keeps the newest version of each ticket, whatever order versions arrive in', () => {
    const book = new TicketBook();
    expect(book.upsert(ticket('a', { version: 2 }))).toBe(true);
    expect(book.upsert(ticket('a', { version: 1, state: 'closed' }))).toBe(false);
    expect(book.upsert(ticket('a', { version: 2, state: 'closed' }))).toBe(false);
    expect(book.get('a')).toMatchObject({ version: 2, state: 'open' });
    expect(book.upsert(ticket('a', { version: 3, ...acked }))).toBe(true);
    expect(book.get('a')).toMatchObject({ version: 3, state: 'acknowledged' });
  });

  it('view: the tickets on the board sorted, shelved ones apart, closed ones gone', () => {
    const book = new TicketBook();
    for (const t of [
      ticket('a', { priority: 'P2' }),
      ticket('b', { priority: 'P0' }),
      ticket('c', { priority: 'P1', shelvedUntil: at(10), shelvedReason: 'r' }),
      ticket('d', { priority: 'P0', state: 'closed' }),
      ticket('e', { priority: 'P3', state: 'waiting' }),
    ])
      book.upsert(t);
    const { active, shelved } = book.view(NOW);
    expect(active.map((t) => t.id)).toEqual(['b', 'a', 'e']);
    expect(shelved.map((t) => t.id)).toEqual(['c']);
    // once the shelving ends, the ticket is back in the active list
    expect(book.view(NOW + 11 * MIN).active.map((t) => t.id)).toEqual(['b', 'c', 'a', 'e']);
    expect(counts(active)).toEqual({ P0: { total: 1, unack: 1 }, P1: { total: 0, unack: 0 }, P2: { total: 1, unack: 1 }, P3: { total: 1, unack: 0 } });
  });

  it('replace: the reloaded list is the truth, except newer versions that arrived live and tickets `keep` names', () => {
    const book = new TicketBook();
    book.upsert(ticket('a', { version: 3, ...acked })); // arrived live while the list was loading
    book.upsert(ticket('b', { version: 1 }));
    book.upsert(ticket('gone', { version: 1 }));
    book.upsert(ticket('live', { version: 1 }));
    book.replace([ticket('a', { version: 2 }), ticket('b', { version: 2, ...acked }), ticket('new', { version: 1 })], (id) => id === 'live');
    expect(book.get('a')).toMatchObject({ version: 3, state: 'acknowledged' });
    expect(book.get('b')).toMatchObject({ version: 2, state: 'acknowledged' });
    expect(book.get('new')).toMatchObject({ version: 1 });
    expect(book.get('gone')).toBeUndefined();
    expect(book.get('live')).toMatchObject({ version: 1 });
  });
});

describe('flood banners', () => {
  it('one per active flood ticket, with its area (plant without one), member count and first-out alarm', () => {
    const firstOut = { asset: 'cell-001', fault: 'gripper', at: at(-5) };
    const active = [
      ticket('f1', { fault: 'alarm-flood', area: 'assembly', members: [firstOut], firstOut }),
      ticket('f2', { fault: 'alarm-flood', area: null, members: [], condition: 'cleared' }),
      ticket('f3', { fault: 'alarm-flood', area: null, members: [] }),
      ticket('x'),
    ];
    expect(floods(active)).toEqual([
      { ticket: active[0], area: 'assembly', members: 1, firstOut },
      { ticket: active[2], area: 'plant', members: 0, firstOut: null },
    ]);
  });
});
