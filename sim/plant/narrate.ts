import type { TicketChange } from '../../gateway/tickets/engine.ts';
import type { TicketDoc } from '../../model/ticket.ts';

/** What the board would say about a ticket, in one line: recurrence, the top cause and the similar case it lists first. */
export function ticketFacts(t: TicketDoc): string {
  const parts = [`${t.priority} ${t.key}`, `${t.state}`, `${t.occurrences}×`];
  if (t.recurrence)
    parts.push(
      t.recurrence.pattern === 'irregular'
        ? 'recurring'
        : `recurring ${t.recurrence.pattern} ~${t.recurrence.at}${t.recurrence.day ? ` ${t.recurrence.day}` : ''}`,
    );
  const c = t.causes[0];
  if (c) parts.push(`probable cause ${c.asset ?? '?'} ${c.fault} (${c.support}/${c.of}, ${c.leadSeconds} s before, ${c.source})`);
  if (t.escalationLevel > 0) parts.push(`escalation level ${t.escalationLevel}`);
  const similar = t.similar[0];
  if (t.state !== 'closed' && similar) parts.push(`similar case first: ${similar.id} "${similar.solution ?? similar.resolution ?? ''}"${similar.labels.length > 0 ? ` [${similar.labels.join(', ')}]` : ''}`);
  return parts.join(' · ');
}

const SAID: Record<string, string> = {
  opened: 'opened',
  occurrence: 'new occurrence',
  cleared: 'signal back to normal',
  escalated: 'escalated',
  ack: 'acknowledged',
  resolve: 'resolved',
  close: 'closed',
  reopen: 'reopened',
  merged: 'merged',
  wait: 'waiting',
  record: 'record added',
};

/** The demo's console line for a ticket change, or null for changes not worth a line (sync bookkeeping, comments). */
export function narrate(c: TicketChange): string | null {
  const w = c.ticket.warnings.find((x) => x.id === c.event.warning);
  if (w) {
    const cause = 'pattern' in w.cause ? `recurs ${w.cause.pattern}` : `${w.cause.asset ?? ''} ${w.cause.fault} (${w.cause.support}/${w.cause.of})`.trim();
    if (c.event.action === 'warned') return `EARLY WARNING on ${c.ticket.key}: expected within ~${w.leadSeconds} s (by ${w.expectedBy.slice(11, 19)} UTC), cause ${cause}`;
    if (c.event.action === 'warning-confirmed') return `early warning confirmed on ${c.ticket.key}: it came ${w.actualLeadSeconds ?? '?'} s after the warning`;
    if (c.event.action === 'warning-missed') return `early warning missed on ${c.ticket.key}: nothing by ${w.expectedBy.slice(11, 19)} UTC`;
  }
  const what = SAID[c.event.action];
  if (!what) return null;
  const by = c.event.by && c.event.by !== 'andon' ? ` by ${c.event.by}` : '';
  return `${what}${by}: ${ticketFacts(c.ticket)}`;
}
