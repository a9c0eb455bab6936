import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { iso, type TicketDoc } from '../../model/ticket.ts';
import { ticketDoc } from '../../test/ticket-fixture.ts';
import { escalations, steps } from './escalation.ts';
import type { TicketCommand } from '../../rules/types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

const levels = parseConfig(`
gateway: { id: test }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [duty-supervisor] }
  - { after: 1h, unless: resolved, level: 2, notify: [production-vp] }
notify:
  duty-supervisor: { type: webhook, url: "http://127.0.0.1:9000/a" }
  production-vp: { type: webhook, url: "http://127.0.0.1:9000/b" }
`).escalation;

/** The fixture's P1 ticket, as T1 opened at `openedAt`: respond within 30 min, resolve within 8 h. */
const ticket = (over: Partial<TicketDoc> = {}, openedAt = 0, respondWithin = 30 * MIN, resolveWithin = 8 * HOUR): TicketDoc =>
  ticketDoc(
    {
      id: 'T1',
      gateway: 'test',
      line: null,
      notify: [],
      evidence: [],
      respondBy: iso(openedAt + respondWithin),
      resolveBy: iso(openedAt + resolveWithin),
      ...over,
    },
    openedAt,
  );

type Escalate = Extract<TicketCommand, { type: 'escalate' }>;
const escalate = (at: number, level: number, breach: Escalate['breach'], unless: Escalate['unless'], notify: string[] = [], id = 'T1'): Escalate => ({
  type: 'escalate',
  at,
  id,
  level,
  notify,
  breach,
  unless,
});

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('escalations', () => {
  describe('SLA only (no configured levels)', () => {
    it('emits a respond breach at respondBy for an open ticket', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('t', { t: ticket() }).pipe(escalations([], ts))).toBe('30m e', { e: escalate(30 * MIN, 0, 'respond', 'acknowledged') });
      });
    });

    it('a ticket acknowledged before respondBy gets no acknowledged step, only the resolve deadline', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('a 10m b', { a: ticket(), b: ticket({ version: 2, state: 'acknowledged', acknowledgedAt: iso(10 * MIN) }) });
        expectObservable(tickets.pipe(escalations([], ts))).toBe('480m e', { e: escalate(8 * HOUR, 0, 'resolve', 'resolved') });
      });
    });

    it('a resolved or closed ticket gets nothing more', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('a 10m b 10m c', {
          a: ticket(),
          b: ticket({ id: 'T2' }),
          c: ticket({ version: 3, state: 'resolved' }),
        });
        const closed = cold('a 10m b', { a: ticket({ id: 'T2' }), b: ticket({ id: 'T2', version: 2, state: 'closed' }) });
        // T1 resolved at 20m: neither its respond nor its resolve deadline fires; T2 still does.
        expectObservable(tickets.pipe(escalations([], ts)), '^ 600m !').toBe('30m e', { e: escalate(30 * MIN, 0, 'respond', 'acknowledged', [], 'T2') });
        expectObservable(closed.pipe(escalations([], ts)), '^ 600m !').toBe('');
      });
    });

    it('once the respond breach is recorded, the next version schedules the resolve deadline', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('a 31m b', { a: ticket(), b: ticket({ version: 2, breaches: ['respond'], flags: ['sla-breached'] }) });
        expectObservable(tickets.pipe(escalations([], ts))).toBe('30m e 449m 59999ms f', {
          e: escalate(30 * MIN, 0, 'respond', 'acknowledged'),
          f: escalate(8 * HOUR, 0, 'resolve', 'resolved'),
        });
      });
    });
  });

  describe('configured levels', () => {
    it('level 1 at respondBy carries the respond breach; level 2 fires at openedAt + 1h', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // Versions as the engine would write them after each escalation.
        const tickets = cold('a 30m b 30m c', {
          a: ticket(),
          b: ticket({ version: 2, escalationLevel: 1, breaches: ['respond'] }),
          c: ticket({ version: 3, escalationLevel: 2, breaches: ['respond'] }),
        });
        expectObservable(tickets.pipe(escalations(levels, ts))).toBe('30m e 29m 59999ms f 419m 59999ms g', {
          e: escalate(30 * MIN, 1, 'respond', 'acknowledged', ['duty-supervisor']),
          f: escalate(HOUR, 2, null, 'resolved', ['production-vp']),
          g: escalate(8 * HOUR, 0, 'resolve', 'resolved'),
        });
      });
    });

    it('counts `after: 1h` from openedAt, not from when the ticket was seen', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // Opened at 0 but first seen at 40m (a restart), already acknowledged: level 2 at 1h.
        const tickets = cold('40m a', { a: ticket({ state: 'acknowledged' }) });
        expectObservable(tickets.pipe(escalations(levels, ts))).toBe('60m f', { f: escalate(HOUR, 2, null, 'resolved', ['production-vp']) });
      });
    });

    it('a deadline already past fires at once, stamped with the present', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('45m a', { a: ticket() });
        expectObservable(tickets.pipe(escalations(levels, ts))).toBe('45m e', { e: escalate(45 * MIN, 1, 'respond', 'acknowledged', ['duty-supervisor']) });
      });
    });

    it('acknowledging skips level 1 but not level 2 (unless: resolved)', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('a 10m b', { a: ticket(), b: ticket({ version: 2, state: 'acknowledged' }) });
        expectObservable(tickets.pipe(escalations(levels, ts))).toBe('60m f', { f: escalate(HOUR, 2, null, 'resolved', ['production-vp']) });
      });
    });

    it('lists the steps of a ticket in deadline order', () => {
      expect(steps(ticket(), levels).map((s) => [s.due, s.level, s.breach])).toEqual([
        [30 * MIN, 0, 'respond'],
        [30 * MIN, 1, 'respond'],
        [HOUR, 2, null],
        [8 * HOUR, 0, 'resolve'],
      ]);
    });
  });

  describe('levels scoped by match', () => {
    const scoped = parseConfig(`
gateway: { id: test }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [duty-supervisor], match: { priority: [P0, P1] } }
  - { after: 2h, unless: resolved, level: 2, notify: [maintenance-lead], match: { fault: comms-lost, area: [packaging, paint] } }
notify:
  duty-supervisor: { type: webhook, url: "http://127.0.0.1:9000/a" }
  maintenance-lead: { type: webhook, url: "http://127.0.0.1:9000/b" }
`).escalation;
    const commsLost = (over: Partial<TicketDoc> = {}) => ticket({ key: 'packaging-plc/comms-lost', asset: 'packaging-plc', fault: 'comms-lost', ...over }, 0, 24 * HOUR, 14 * 24 * HOUR);

    it('a P3 comms-lost ticket skips the P0/P1 level and gets only the levels that fit it', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // P3: respond within 24h; level 1 (P0/P1 only) is skipped, level 2 (comms-lost in packaging) fires at 2h.
        expectObservable(cold('a', { a: commsLost({ priority: 'P3' }) }).pipe(escalations(scoped, ts)), '^ 1500m !').toBe('120m f', {
          f: escalate(2 * HOUR, 2, null, 'resolved', ['maintenance-lead']),
        });
      });
      // After level 2 the SLA steps remain; level 1 never comes. Another area: neither level.
      expect(steps(commsLost({ priority: 'P3' }), scoped).map((s) => [s.due, s.level])).toEqual([[2 * HOUR, 2], [24 * HOUR, 0], [14 * 24 * HOUR, 0]]);
      expect(steps(commsLost({ priority: 'P3', area: 'assembly' }), scoped).map((s) => s.level)).toEqual([0, 0]);
      expect(steps(commsLost({ priority: 'P1' }), scoped).map((s) => s.level)).toEqual([2, 0, 1, 0]);
    });

    it('a P1 ticket gets the level matched by one of the listed priorities', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a', { a: ticket() }).pipe(escalations(scoped, ts)), '^ 60m !').toBe('30m e', { e: escalate(30 * MIN, 1, 'respond', 'acknowledged', ['duty-supervisor']) });
      });
    });

    it('a priority raised into the match brings the level in (re-planned from the version)', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // P3 opened at 0, raised to P1 at 10m (deadlines as the engine keeps them): level 1 now applies at respondBy.
        const tickets = cold('a 10m b', { a: ticket({ priority: 'P3' }, 0, 24 * HOUR, 14 * 24 * HOUR), b: ticket({ version: 2, priority: 'P1' }, 0, 24 * HOUR, 14 * 24 * HOUR) });
        expectObservable(tickets.pipe(escalations(scoped, ts)), '^ 1500m !').toBe('1440m e', { e: escalate(24 * HOUR, 1, 'respond', 'acknowledged', ['duty-supervisor']) });
      });
    });
  });

  describe('new versions', () => {
    it('a new version of the same ticket reschedules rather than duplicating', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('a 5m b 5m c', {
          a: ticket(),
          b: ticket({ version: 2, occurrences: 2 }),
          c: ticket({ version: 3, occurrences: 3 }),
        });
        expectObservable(tickets.pipe(escalations([], ts))).toBe('30m e', { e: escalate(30 * MIN, 0, 'respond', 'acknowledged') });
      });
    });

    it('a version that meets the SLA drops the breach from a deadline it shares with a level', () => {
      const ts = newScheduler();
      const shared = parseConfig(`
gateway: { id: test }
escalation:
  - { after: respondBy, unless: resolved, level: 1, notify: [duty-supervisor] }
notify:
  duty-supervisor: { type: webhook, url: "http://127.0.0.1:9000/a" }
`).escalation;
      ts.run(({ cold, expectObservable }) => {
        // Open: at 30m both the respond SLA and level 1 are due. Acknowledged at 10m: the SLA is met,
        // level 1 (unless: resolved) still fires at 30m, but without a respond breach.
        const tickets = cold('a 10m b', { a: ticket(), b: ticket({ version: 2, state: 'acknowledged' }) });
        expectObservable(tickets.pipe(escalations(shared, ts))).toBe('30m e', { e: escalate(30 * MIN, 1, null, 'resolved', ['duty-supervisor']) });
      });
    });

    it('a version with an earlier deadline (priority raised) moves the timer', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // P2 (respond within 4h) raised to P0 (respond within 15m) at 5m.
        const tickets = cold('a 5m b', { a: ticket({ priority: 'P2' }, 0, 4 * HOUR, 3 * 24 * HOUR), b: ticket({ version: 2, priority: 'P0' }, 0, 15 * MIN, 4 * HOUR) });
        expectObservable(tickets.pipe(escalations([], ts)), '^ 300m !').toBe('15m e', { e: escalate(15 * MIN, 0, 'respond', 'acknowledged') });
      });
    });

    it('tickets are timed independently', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const tickets = cold('a 9m b', { a: ticket(), b: ticket({ id: 'T2' }, 10 * MIN) });
        expectObservable(tickets.pipe(escalations([], ts))).toBe('30m e 9m 59999ms f', {
          e: escalate(30 * MIN, 0, 'respond', 'acknowledged'),
          f: escalate(40 * MIN, 0, 'respond', 'acknowledged', [], 'T2'),
        });
      });
    });

    it('unsubscribing cancels the timers', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('t', { t: ticket() }).pipe(escalations([], ts)), '^ 29m !').toBe('');
      });
    });
  });
});

describe('escalations of shelved tickets', () => {
  it('a shelved ticket has no timers; at unshelve what fell due fires at once', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // shelved at 10m until 2h (set by the version at 10m), unshelved (a version without shelvedUntil) at 2h
      const tickets = cold('a 10m b 109m 59998ms c', { a: ticket(), b: ticket({ version: 2, shelvedUntil: iso(2 * HOUR) }), c: ticket({ version: 3 }) });
      expectObservable(tickets.pipe(escalations([], ts))).toBe('120m e', { e: escalate(2 * HOUR, 0, 'respond', 'acknowledged') });
    });
  });

  it('a shelving that already ended does not hold the deadline back', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: ticket({ shelvedUntil: iso(-MIN) }) }).pipe(escalations([], ts))).toBe('30m e', { e: escalate(30 * MIN, 0, 'respond', 'acknowledged') });
    });
  });
});
