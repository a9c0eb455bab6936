import { describe, expect, it } from 'vitest';
import { event, T0, ticketDoc } from '../../test/ticket-fixture.ts';
import { notificationsFor } from './triggers.ts';

const opened = event('opened', T0);

describe('notificationsFor: which ticket changes notify whom', () => {
  it('a ticket opened at P1 notifies its routing channels, once per channel', () => {
    const t = ticketDoc({ notify: ['duty-supervisor', 'wall-screen', 'duty-supervisor'] });
    expect(notificationsFor(null, t, opened)).toEqual([
      { channel: 'duty-supervisor', kind: 'opened', ticketId: t.id, version: 1, state: 'open', event: opened, at: T0 },
      { channel: 'wall-screen', kind: 'opened', ticketId: t.id, version: 1, state: 'open', event: opened, at: T0 },
    ]);
  });

  it('a ticket opened at P0 notifies too; at P2 or P3 it does not', () => {
    expect(notificationsFor(null, ticketDoc({ priority: 'P0' }), opened)).toHaveLength(1);
    expect(notificationsFor(null, ticketDoc({ priority: 'P2' }), opened)).toEqual([]);
    expect(notificationsFor(null, ticketDoc({ priority: 'P3' }), opened)).toEqual([]);
  });

  it('a ticket without channels notifies nobody', () => {
    expect(notificationsFor(null, ticketDoc({ notify: [] }), opened)).toEqual([]);
  });

  it('an occurrence that raises P2 to P1, or P1 to P0, notifies as "raised"; one that keeps the priority does not', () => {
    const e = event('occurrence', T0 + 60_000);
    const p2 = ticketDoc({ priority: 'P2' });
    expect(notificationsFor(p2, { ...p2, priority: 'P1', version: 2 }, e)).toMatchObject([{ kind: 'raised', version: 2, channel: 'duty-supervisor' }]);
    const p1 = ticketDoc();
    expect(notificationsFor(p1, { ...p1, priority: 'P0', version: 2 }, e)).toMatchObject([{ kind: 'raised' }]);
    expect(notificationsFor(p1, { ...p1, version: 2, occurrences: 2 }, e)).toEqual([]);
    const p3 = ticketDoc({ priority: 'P3' });
    expect(notificationsFor(p3, { ...p3, priority: 'P2', version: 2 }, e)).toEqual([]);
  });

  it('an escalated event notifies the escalation level\'s channels, not the ticket\'s', () => {
    const t = ticketDoc({ priority: 'P2', escalationLevel: 1, version: 2 });
    const e = event('escalated', T0 + 1_800_000, { level: 1, notified: ['production-vp'] });
    expect(notificationsFor(ticketDoc({ priority: 'P2' }), t, e)).toEqual([
      { channel: 'production-vp', kind: 'escalated', ticketId: t.id, version: 2, state: 'open', event: e, at: T0 + 1_800_000 },
    ]);
    expect(notificationsFor(t, { ...t, version: 3 }, event('escalated', T0, { level: 2, notified: [] }))).toEqual([]);
  });

  it('other changes (ack, comment, cleared, sla-breached) notify nobody', () => {
    const t = ticketDoc();
    for (const action of ['ack', 'comment', 'cleared', 'sla-breached', 'merged']) expect(notificationsFor(t, { ...t, version: 2 }, event(action, T0 + 1))).toEqual([]);
  });

  it('nothing while the ticket is shelved at the change\'s time, escalations included; after the shelf ends, again', () => {
    const until = new Date(T0 + 3_600_000).toISOString();
    const shelved = ticketDoc({ priority: 'P2', shelvedUntil: until });
    expect(notificationsFor(shelved, { ...shelved, priority: 'P1', version: 2 }, event('occurrence', T0 + 60_000))).toEqual([]);
    expect(notificationsFor(shelved, { ...shelved, version: 2 }, event('escalated', T0 + 60_000, { level: 1, notified: ['duty-supervisor'] }))).toEqual([]);
    expect(notificationsFor(shelved, { ...shelved, version: 2 }, event('escalated', T0 + 3_600_000, { level: 1, notified: ['duty-supervisor'] }))).toHaveLength(1);
  });
});
