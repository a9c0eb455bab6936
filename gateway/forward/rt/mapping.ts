import type { Priority } from '../../../config/types.ts';
import type { HistoryEvent, Ticket, TicketState } from '../../../model/ticket.ts';

/** RT status (default lifecycle) for each Andon state. */
export const RT_STATUS: Record<TicketState, string> = {
  open: 'new',
  acknowledged: 'open',
  in_progress: 'open',
  waiting: 'stalled',
  resolved: 'resolved',
  closed: 'resolved',
  merged: 'rejected',
};

/** Statuses RT's default lifecycle allows when a ticket is created (`'' => [new open resolved]`). */
export const CREATE_STATUSES: ReadonlySet<string> = new Set(['new', 'open', 'resolved']);

export const DEFAULT_PRIORITIES: Record<Priority, number> = { P0: 100, P1: 75, P2: 50, P3: 25 };

export const DEFAULT_CUSTOM_FIELDS = { id: 'AndonId', key: 'AndonKey', version: 'AndonVersion', state: 'AndonState', events: 'AndonEvents' };
export type CustomFieldNames = typeof DEFAULT_CUSTOM_FIELDS;

/**
 * An ISO instant as RT stores dates: `YYYY-MM-DD HH:MM:SS`, UTC. RT reads this
 * form as UTC both on create and on update (an ISO string with milliseconds
 * clears the date on update), whatever the server's timezone.
 */
export function rtDate(iso: string | null): string | null {
  const ms = iso === null ? NaN : Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** RT's JSON dates (`2026-01-20T11:18:00Z`) in the same form as `rtDate`. */
export const fromRtDate = (value: unknown): string | null => (typeof value === 'string' && !value.startsWith('1970-01-01') ? rtDate(value) : null);

/** A reference field of RT's JSON: an object `{ id }` on a record, a plain value in search results. */
export const refId = (v: unknown): string | undefined =>
  v !== null && typeof v === 'object' ? String((v as { id?: string | number }).id) : v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v);

/** TicketSQL string literal. */
export const sqlString = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const when = (iso: string | null) => (iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** One history event as a line: `2026-01-20 08:40:00Z  ack by wang  note=...`. */
export function eventLine(e: HistoryEvent): string {
  const extra = Object.entries(e)
    .filter(([k, v]) => k !== 'at' && k !== 'action' && k !== 'by' && k !== 'index' && v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${clip(value(v), 300)}`);
  return `- ${when(e.at)}  ${e.action} by ${e.by}${extra.length > 0 ? `  ${extra.join('  ')}` : ''}`;
}

const status = (t: Omit<Ticket, 'history'>) =>
  `State: ${t.state} · Condition: ${t.condition} · Priority: ${t.priority} · Occurrences: ${t.occurrences}` +
  (t.flags.length > 0 ? ` · Flags: ${t.flags.join(', ')}` : '') +
  (t.assignedGroup !== null ? ` · Group: ${t.assignedGroup}` : '');

/** The body of the RT ticket's create transaction: the Andon ticket in words, with its history so far. */
export function describe(t: Ticket): string {
  const lines = [
    `Andon ticket ${t.id} (version ${t.version}) from gateway ${t.gateway}`,
    `Key: ${t.key} · Asset: ${t.asset ?? '-'} · Area: ${t.area ?? '-'} · Line: ${t.line ?? '-'}`,
    `Fault: ${t.fault} · Category: ${t.category} · Rule: ${t.rule}`,
    status(t),
    `Opened: ${when(t.openedAt)} · Respond by: ${when(t.respondBy)} · Resolve by: ${when(t.resolveBy)}`,
  ];
  if (t.recurrence !== null) {
    const r = t.recurrence;
    lines.push(`Recurring: ${r.count} times, ${r.pattern}${r.at !== null ? ` at ${r.at}` : ''}${r.day !== null ? ` on ${r.day}` : ''}`);
  }
  for (const c of t.causes) lines.push(`Probable cause: ${c.fault} on ${c.asset ?? '-'} (${c.support} of ${c.of}, ${c.leadSeconds} s before)`);
  if (t.firstOut !== null) lines.push(`First out: ${t.firstOut.fault} on ${t.firstOut.asset ?? '-'} at ${when(t.firstOut.at)}`);
  if (t.members.length > 0) lines.push(`Members: ${t.members.length} alarms`);
  if (t.evidence.length > 0) {
    lines.push('', 'Evidence:');
    for (const e of t.evidence.slice(0, 20)) lines.push(`- ${when(e.ts)}  ${e.tag} = ${clip(value(e.value), 200)}${e.unit ? ` ${e.unit}` : ''}${e.message ? `  (${e.message})` : ''}`);
  }
  for (const s of t.similar.slice(0, 5)) lines.push(`Similar: ${s.id} ${s.fault}${s.resolution ? `: ${clip(s.resolution, 200)}` : ''}`);
  lines.push('', 'History:', ...t.history.map(eventLine));
  return lines.join('\n');
}

/** A comment carrying the history events RT has not seen yet. */
export function updateComment(t: Omit<Ticket, 'history'>, events: HistoryEvent[]): { Subject: string; Content: string } {
  return {
    Subject: `Andon v${t.version}: ${events.map((e) => e.action).join(', ')}`.slice(0, 200),
    Content: [status(t), '', ...events.map(eventLine)].join('\n'),
  };
}
