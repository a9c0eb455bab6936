import { describe, expect, it } from 'vitest';
import { copyTicket, TICKET_DOC_KEYS, type TicketDoc } from './ticket.ts';

/** A doc with every field: each one's value names it (nested values stay shared by a shallow copy). */
const doc = () => Object.fromEntries(TICKET_DOC_KEYS.map((k) => [k, k === 'members' ? [{ asset: 'a', fault: 'f', at: 'x' }] : `${k}-value`])) as unknown as TicketDoc;

describe('copyTicket', () => {
  it('copies every field into a new object, in the canonical order, sharing nested values (shallow)', () => {
    const d = doc();
    const c = copyTicket(d);
    expect(c).not.toBe(d);
    expect(c).toEqual(d);
    expect(Object.keys(c)).toEqual(TICKET_DOC_KEYS);
    expect(c.members).toBe(d.members);
    c.state = 'closed';
    expect(d.state).toBe('state-value');
  });

  it('writes the canonical order whatever order the doc had (a stored doc read with its defaults first)', () => {
    const d = doc();
    const reordered = Object.fromEntries(Object.entries(d).reverse()) as unknown as TicketDoc;
    expect(Object.keys(copyTicket(reordered))).toEqual(TICKET_DOC_KEYS);
    expect(copyTicket(reordered)).toEqual(d);
  });

  it('keeps a field it does not know, and does not add one the doc lacks (a store of another version)', () => {
    const extra = { ...doc(), fromTheFuture: 42 } as TicketDoc;
    expect(copyTicket(extra)).toEqual(extra);
    expect((copyTicket(extra) as unknown as { fromTheFuture: number }).fromTheFuture).toBe(42);
    const { central: _central, ...lacking } = doc();
    const c = copyTicket(lacking as TicketDoc);
    expect('central' in c).toBe(false);
    expect(c).toEqual(lacking);
    // as many fields as it knows, but one of them another: still copied as it is
    const swapped = { ...lacking, fromTheFuture: 42 } as unknown as TicketDoc;
    expect(Object.keys(swapped)).toHaveLength(TICKET_DOC_KEYS.length);
    expect(copyTicket(swapped)).toEqual(swapped);
    expect('central' in copyTicket(swapped)).toBe(false);
  });
});
