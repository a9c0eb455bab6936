import type { HistoryEvent, Ticket, TicketDoc } from '../model/ticket.ts';

export const T0 = Date.parse('2026-01-20T08:01:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A complete §4 ticket as the engine would save it: sealer-01 stopped with a
 * P1 alarm at `openedAt` (respond within 30 min, resolve within 8 h). `over`
 * replaces any field.
 */
export function ticketDoc(over: Partial<TicketDoc> = {}, openedAt = T0): TicketDoc {
  const at = iso(openedAt);
  return {
    id: '01JH7SEALER01',
    version: 1,
    key: 'sealer-01/alarm-stop',
    gateway: 'plant-a-line-1',
    asset: 'sealer-01',
    area: 'packaging',
    line: 'line-1',
    fault: 'alarm-stop',
    category: 'hardware',
    priority: 'P1',
    rule: 'sealer-alarm',
    title: 'sealer-01: alarm-stop',
    state: 'open',
    condition: 'active',
    openedAt: at,
    updatedAt: at,
    respondBy: iso(openedAt + 1_800_000),
    resolveBy: iso(openedAt + 8 * 3_600_000),
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    firstSeen: at,
    lastSeen: at,
    occurrences: 1,
    flags: [],
    recurrence: null,
    causes: [],
    warnings: [],
    members: [],
    firstOut: null,
    assignedGroup: 'maintenance-packaging',
    assignee: null,
    notify: ['duty-supervisor'],
    escalationLevel: 0,
    escalations: [],
    breaches: [],
    evidence: [{ tag: 'packaging/sealer-01/alarm/E21', value: true, ts: at, message: 'seal jaw fault', severity: 700 }],
    similar: [],
    wait: null,
    resolution: null,
    rootCause: null,
    checklist: null,
    mergedInto: null,
    shelvedUntil: null,
    shelvedReason: null,
    previous: null,
    reopenedAt: null,
    verifyBy: null,
    knowledge: null,
    records: [],
    central: null,
    ...over,
  } as TicketDoc;
}

export const ticketOf = (doc: TicketDoc, history: HistoryEvent[] = [{ at: doc.openedAt, action: 'opened', by: 'andon' }]): Ticket => ({ ...doc, history });

export const event = (action: string, atMs: number, extra: Record<string, unknown> = {}): HistoryEvent => ({ at: iso(atMs), action, by: 'andon', ...extra });
