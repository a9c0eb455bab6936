import { summarize, type NotificationMessage } from '../message.ts';

/**
 * format `json`: for receivers of your own (a wall screen, a pager bridge).
 *   { notification: { id, channel, kind, headline, link }, ticket: <Ticket JSON of contracts §Ticket JSON, now>, event: <the history event> }
 * `notification.id` is the same on every attempt: dedupe by it (delivery is at least once).
 */
export function jsonMessage(m: NotificationMessage) {
  const s = summarize(m);
  return {
    notification: { id: m.id, channel: m.channel, kind: m.kind, headline: s.headline, link: s.link },
    ticket: m.ticket,
    event: m.event,
  };
}
