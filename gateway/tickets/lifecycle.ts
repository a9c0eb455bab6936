import { formatDuration, parseDuration } from '../../config/duration.ts';
import { AndonError } from '../../model/errors.ts';
import { parseKnowledge, type LabelPolicy } from '../knowledge/entry.ts';
import { CHECKLIST, iso, isShelved, patchTicket, WAIT_REASONS, type HistoryEvent, type TicketDoc, type TicketState } from '../../model/ticket.ts';

export { CHECKLIST, WAIT_REASONS } from '../../model/ticket.ts';

/**
 * The ticket lifecycle (contracts §Lifecycle) as a pure function: a ticket and an action
 * give the next ticket and its history event, or an AndonError and nothing.
 *
 *   open ──ack──> acknowledged ──start──> in_progress ──wait──> waiting ──resume──> in_progress
 *     └───────────────┴──────resolve──────────┘──> resolved ──close──> closed
 *                                                    └──reopen──> in_progress
 *
 * shelve(reason, duration|until) / unshelve (ISA-18.2) keep the state: a shelved
 * ticket still counts occurrences but notifies and escalates nothing until then.
 */
export const ACTIONS = ['ack', 'start', 'wait', 'resume', 'resolve', 'close', 'reopen', 'assign', 'shelve', 'unshelve'] as const;
export type LifecycleAction = (typeof ACTIONS)[number];

const MOVES: Record<LifecycleAction, { from: readonly TicketState[]; to: TicketState | null }> = {
  ack: { from: ['open'], to: 'acknowledged' },
  start: { from: ['acknowledged'], to: 'in_progress' },
  wait: { from: ['in_progress'], to: 'waiting' },
  resume: { from: ['waiting'], to: 'in_progress' },
  resolve: { from: ['open', 'acknowledged', 'in_progress'], to: 'resolved' },
  close: { from: ['resolved'], to: 'closed' },
  reopen: { from: ['resolved'], to: 'in_progress' },
  // assignment changes who, not the state
  assign: { from: ['open', 'acknowledged', 'in_progress', 'waiting', 'resolved'], to: null },
  // shelving silences a live alarm for a while; the state stays
  shelve: { from: ['open', 'acknowledged', 'in_progress', 'waiting'], to: null },
  unshelve: { from: ['open', 'acknowledged', 'in_progress', 'waiting'], to: null },
};

/** Limits the lifecycle takes from config. */
export interface LifecycleLimits {
  /** Longest shelving from now (config shelving.maxDuration), ms. */
  maxShelve: number;
  /** The ids close needs confirmed (config lifecycle.closeChecklist); default CHECKLIST. */
  checklist?: readonly string[];
  /** The labels a resolve's knowledge entry may carry (config knowledge); default none. */
  labels?: LabelPolicy;
}

const NO_LABELS: LabelPolicy = { labels: [], freeLabels: false };

/** The default close checklist (config lifecycle.closeChecklist). */
const DEFAULT_LIMITS: LifecycleLimits = { maxShelve: 8 * 3_600_000, checklist: CHECKLIST };

export const isLifecycleAction = (a: string): a is LifecycleAction => (ACTIONS as readonly string[]).includes(a);

/** The states an action is allowed from (for error messages and the board's buttons). */
export const allowedFrom = (action: LifecycleAction) => MOVES[action].from;

/** The state an action leads to (null: the state stays, as for assign). */
export const targetOf = (action: LifecycleAction) => MOVES[action].to;

const text = (fields: Record<string, unknown>, name: string, action: string): string => {
  const v = fields[name];
  if (v === undefined || v === null || v === '') throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', `${action} needs ${name}`, { path: name });
  if (typeof v !== 'string') throw new AndonError('ANDON_TICKET_INVALID_FIELD', `${name} must be text`, { path: name });
  if (v.length > 4000) throw new AndonError('ANDON_TICKET_INVALID_FIELD', `${name} is longer than 4000 characters`, { path: name });
  return v;
};

const date = (fields: Record<string, unknown>, name: string, action: string): string => {
  const v = text(fields, name, action);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new AndonError('ANDON_TICKET_INVALID_FIELD', `${name} must be an ISO date-time, got "${v}"`, { path: name });
  return iso(ms);
};

export interface Transition {
  ticket: TicketDoc;
  event: HistoryEvent;
}

/** The end of a shelving asked for by `duration` ("2h") or `until` (ISO), checked against now and the limit. */
function shelveEnd(fields: Record<string, unknown>, at: number, max: number): number {
  const has = (k: string) => fields[k] !== undefined && fields[k] !== null;
  if (has('duration') && has('until')) throw new AndonError('ANDON_TICKET_INVALID_FIELD', 'shelve takes duration or until, not both', { path: 'until' });
  if (!has('duration') && !has('until')) throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', 'shelve needs duration (like "2h") or until (an ISO date-time)', { path: 'duration' });
  const path = has('duration') ? 'duration' : 'until';
  let end: number;
  if (path === 'duration') {
    const ms = typeof fields.duration === 'string' ? parseDuration(fields.duration) : undefined;
    if (ms === undefined) throw new AndonError('ANDON_TICKET_INVALID_FIELD', `duration must be like 30m, 2h or 1d, got ${JSON.stringify(fields.duration)}`, { path });
    end = at + ms;
  } else {
    end = Date.parse(date(fields, 'until', 'shelve'));
  }
  if (end <= at) throw new AndonError('ANDON_TICKET_INVALID_FIELD', `${path} must end in the future`, { path });
  if (end - at > max) throw new AndonError('ANDON_TICKET_INVALID_FIELD', `${path} is longer than shelving.maxDuration (${formatDuration(max)})`, { path });
  return end;
}

/** Applies `action` by `by` at `at` (epoch ms). Throws ANDON_TICKET_* and changes nothing when refused. */
export function transition(
  ticket: TicketDoc,
  action: string,
  by: string,
  at: number,
  fields: Record<string, unknown> = {},
  limits: LifecycleLimits = DEFAULT_LIMITS,
): Transition {
  if (!isLifecycleAction(action)) {
    throw new AndonError('ANDON_TICKET_UNKNOWN_ACTION', `"${action}" is not a lifecycle action (${ACTIONS.join(', ')})`, { path: 'action' });
  }
  if (typeof by !== 'string' || by.trim() === '') throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', `${action} needs by (who does it)`, { path: 'by' });
  const move = MOVES[action];
  if (!move.from.includes(ticket.state)) {
    throw new AndonError(
      'ANDON_TICKET_ILLEGAL_TRANSITION',
      `cannot ${action} a ticket that is ${ticket.state} (allowed from: ${move.from.join(', ')})`,
      { path: 'action' },
    );
  }
  const when = iso(at);
  const next: TicketDoc = patchTicket(ticket, { state: move.to ?? ticket.state });
  const event: HistoryEvent = { at: when, action, by };
  switch (action) {
    case 'ack':
      next.acknowledgedAt = when;
      break;
    case 'wait': {
      const reason = text(fields, 'reason', action);
      if (!(WAIT_REASONS as readonly string[]).includes(reason)) {
        throw new AndonError('ANDON_TICKET_INVALID_FIELD', `reason must be one of ${WAIT_REASONS.join(', ')}`, { path: 'reason' });
      }
      const partNumber = reason === 'parts' ? text(fields, 'partNumber', 'wait for parts') : null;
      const eta = reason === 'parts' ? date(fields, 'eta', 'wait for parts') : fields.eta === undefined ? null : date(fields, 'eta', action);
      next.wait = { reason, partNumber, eta };
      Object.assign(event, { reason, partNumber, eta });
      break;
    }
    case 'resume':
      next.wait = null;
      break;
    case 'resolve':
      next.resolution = text(fields, 'resolution', action);
      next.rootCause = text(fields, 'rootCause', action);
      next.resolvedAt = when;
      next.knowledge = parseKnowledge(fields.knowledge, limits.labels ?? NO_LABELS);
      next.wait = null;
      // a resolved ticket is no longer an alarm to silence: its shelving ends with it
      next.shelvedUntil = null;
      next.shelvedReason = null;
      Object.assign(event, { resolution: next.resolution, rootCause: next.rootCause }, next.knowledge ? { knowledge: next.knowledge } : {});
      break;
    case 'close': {
      const items = limits.checklist ?? CHECKLIST;
      const list = fields.checklist ?? (items.length === 0 ? {} : undefined);
      if (list === null || typeof list !== 'object') {
        throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', `close needs checklist { ${items.join(', ')} }`, { path: 'checklist' });
      }
      const missing = items.filter((k) => !Object.hasOwn(list, k) || (list as Record<string, unknown>)[k] !== true);
      if (missing.length > 0) {
        throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', `close needs every checklist item confirmed; not confirmed: ${missing.join(', ')}`, { path: 'checklist' });
      }
      next.checklist = Object.fromEntries(items.map((k) => [k, true]));
      next.closedAt = when;
      event.checklist = next.checklist;
      break;
    }
    case 'reopen':
      next.knowledge = null;
      next.resolution = null;
      next.rootCause = null;
      next.resolvedAt = null;
      if (fields.reason !== undefined) event.reason = text(fields, 'reason', action);
      break;
    case 'assign': {
      const assignee = fields.assignee === null ? null : text(fields, 'assignee', action);
      next.assignee = assignee;
      event.assignee = assignee;
      if (fields.group !== undefined) {
        next.assignedGroup = text(fields, 'group', action);
        event.group = next.assignedGroup;
      }
      break;
    }
    case 'shelve': {
      const reason = text(fields, 'reason', action);
      const until = iso(shelveEnd(fields, at, limits.maxShelve));
      next.shelvedUntil = until;
      next.shelvedReason = reason;
      Object.assign(event, { reason, until });
      break;
    }
    case 'unshelve':
      if (!isShelved(ticket, at)) throw new AndonError('ANDON_TICKET_ILLEGAL_TRANSITION', 'cannot unshelve a ticket that is not shelved', { path: 'action' });
      next.shelvedUntil = null;
      next.shelvedReason = null;
      break;
    case 'start':
      break;
  }
  if (typeof fields.note === 'string' && fields.note !== '') event.note = fields.note.slice(0, 4000);
  return { ticket: next, event };
}
