import type { Priority } from '../../config/types.ts';
import type { NotificationDraft, NotificationKind } from '../store/notifications.ts';
import { isShelved, type HistoryEvent, type TicketDoc } from '../../model/ticket.ts';

/** Priorities that notify people when a ticket opens at them or is raised to them. */
export const URGENT: readonly Priority[] = ['P0', 'P1'];

const rank = (p: Priority) => ['P0', 'P1', 'P2', 'P3'].indexOf(p);

/**
 * The notifications one committed ticket change causes (contract "Notifications"):
 * - opened at P0/P1, or raised to P0/P1 (P1 → P0 included) → the ticket's `notify` channels (from routing);
 * - `reopened` at P0/P1 (its fault came back after a fix) → the ticket's `notify` channels;
 * - an `escalated` event → that event's `notified` channels;
 * - a `warned` event (an early warning), at any priority → the ticket's `notify` channels;
 * - nothing while the ticket is shelved at the change's time.
 * Pure: the engine calls it inside the change's transaction and the store queues the result.
 */
export function notificationsFor(previous: TicketDoc | null, ticket: TicketDoc, event: HistoryEvent): NotificationDraft[] {
  const at = Date.parse(event.at);
  if (isShelved(ticket, at)) return [];
  let kind: NotificationKind;
  let channels: unknown;
  if (event.action === 'escalated') {
    kind = 'escalated';
    channels = event.notified;
  } else if (event.action === 'warned') {
    kind = 'warning';
    channels = ticket.notify;
  } else if (event.action === 'reopened' && URGENT.includes(ticket.priority)) {
    // the fault came back after a fix: people hear of it as they would of a new ticket of its priority
    kind = 'reopened';
    channels = ticket.notify;
  } else if (URGENT.includes(ticket.priority) && (previous === null || rank(ticket.priority) < rank(previous.priority))) {
    kind = previous === null ? 'opened' : 'raised';
    channels = ticket.notify;
  } else {
    return [];
  }
  const names = Array.isArray(channels) ? [...new Set(channels.filter((c): c is string => typeof c === 'string'))] : [];
  return names.map((channel) => ({ channel, kind, ticketId: ticket.id, version: ticket.version, state: ticket.state, event, at }));
}
