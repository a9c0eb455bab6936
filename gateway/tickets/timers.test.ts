import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { iso, type TicketDoc, type TicketState } from '../../model/ticket.ts';
import { unshelving } from './timers.ts';

const MIN = 60_000;
// unshelving reads only id, state and shelvedUntil
const t = (shelvedUntil: number | null, state: TicketState = 'open', id = 'T1') =>
  ({ id, state, shelvedUntil: shelvedUntil === null ? null : iso(shelvedUntil) }) as TicketDoc;
const due = (at: number, until: number, id = 'T1') => ({ type: 'unshelve-due', at, id, until: iso(until) });
const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('unshelving', () => {
  it('emits unshelve-due at shelvedUntil', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: t(60 * MIN) }).pipe(unshelving(ts))).toBe('60m u', { u: due(60 * MIN, 60 * MIN) });
    });
  });

  it('a shelving already past (after a restart) is due at once, stamped now', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('10m a', { a: t(5 * MIN) }).pipe(unshelving(ts))).toBe('10m u', { u: due(10 * MIN, 5 * MIN) });
    });
  });

  it('shelving again moves the timer; other versions keep it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const tickets = cold('a 9m b 9m c', { a: t(60 * MIN), b: t(60 * MIN), c: t(90 * MIN) });
      expectObservable(tickets.pipe(unshelving(ts))).toBe('90m u', { u: due(90 * MIN, 90 * MIN) });
    });
  });

  it('an early unshelve, a resolve or a merge cancels it; tickets are independent', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const tickets = cold('(ab) 9m c 9m d', { a: t(60 * MIN), b: t(30 * MIN, 'open', 'T2'), c: t(null), d: t(30 * MIN, 'merged', 'T2') });
      expectObservable(tickets.pipe(unshelving(ts)), '^ 120m !').toBe('');
      const resolved = cold('a 9m b', { a: t(60 * MIN, 'acknowledged', 'T3'), b: t(null, 'resolved', 'T3') });
      const other = cold('a 9m b', { a: t(60 * MIN, 'open', 'T4'), b: t(60 * MIN, 'open', 'T5') });
      expectObservable(resolved.pipe(unshelving(ts)), '^ 120m !').toBe('');
      expectObservable(other.pipe(unshelving(ts))).toBe('60m (uv)', { u: due(60 * MIN, 60 * MIN, 'T4'), v: due(60 * MIN, 60 * MIN, 'T5') });
    });
  });
});
