import type { IndexedEvent } from '../store/store.ts';
import { copyTicket, type TicketDoc } from '../../model/ticket.ts';

/** No event-stream message is larger than this, whatever the ticket's size (issue: a flood must not cut off the board). */
export const MAX_MESSAGE_BYTES = 65_536;
/** A stream message carries a flood's newest members; `membersTotal` says how many there are (GET /tickets/{id} has all). */
export const STREAM_MEMBERS = 50;
/** Strings of a trimmed message are cut to this many characters. */
const SHORT = 200;

/** The ticket as a stream carries it: no history, the newest members, and the events this message brings. */
export type StreamTicket = Omit<TicketDoc, 'members'> & { members: TicketDoc['members']; membersTotal: number; events: IndexedEvent[]; truncated?: true };

const frame = (seq: number, data: object) => `id: ${seq}\nevent: ticket\ndata: ${JSON.stringify(data)}\n\n`;
/** UTF-8 length, measured only when the text could be over the bound (3 bytes per UTF-16 unit at most). */
const tooLarge = (text: string) => text.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(text) > MAX_MESSAGE_BYTES;
const cut = (v: unknown): unknown => (typeof v === 'string' && v.length > SHORT ? `${v.slice(0, SHORT)}…` : v);
const cutEvent = (e: IndexedEvent): IndexedEvent => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === 'object' && v !== null ? cut(JSON.stringify(v)) : cut(v)])) as IndexedEvent;

/**
 * One `ticket` message of GET /api/v1/events: the ticket without its history, with its newest
 * STREAM_MEMBERS members (`membersTotal` counts them all) and `events`, the history events the message
 * brings (each with its `index`). Never larger than MAX_MESSAGE_BYTES: what does not fit is trimmed
 * (long texts cut, fewer members and evidence; at worst only the ticket's identity, state and times)
 * and the message says `truncated: true`; GET /api/v1/tickets/{id} and its /history have everything.
 */
export function ticketMessage(seq: number, doc: TicketDoc, events: IndexedEvent[]): string {
  const members = doc.members.length > STREAM_MEMBERS ? doc.members.slice(-STREAM_MEMBERS) : doc.members;
  // copyTicket, then the stream's fields: a spread of the doc's 51 fields is V8's slow path (~4 µs a message)
  const full = copyTicket(doc) as StreamTicket;
  full.members = members;
  full.membersTotal = doc.members.length;
  full.events = events;
  let text = frame(seq, full);
  if (!tooLarge(text)) return text;
  const trimmed: StreamTicket = {
    ...full,
    title: cut(doc.title) as string,
    members: [],
    evidence: doc.evidence.slice(-3).map((e) => ({ ...e, value: cut(e.value), ...(e.message ? { message: cut(e.message) as string } : {}) })),
    similar: doc.similar.map((x) => ({ ...x, resolution: cut(x.resolution) as string | null, rootCause: cut(x.rootCause) as string | null })),
    resolution: cut(doc.resolution) as string | null,
    rootCause: cut(doc.rootCause) as string | null,
    shelvedReason: cut(doc.shelvedReason) as string | null,
    causes: doc.causes.slice(0, 5),
    events: events.slice(-1).map(cutEvent),
    truncated: true,
  };
  text = frame(seq, trimmed);
  if (!tooLarge(text)) return text;
  const { id, version, key, gateway, asset, area, line, fault, category, priority, rule, state, condition, openedAt, updatedAt, respondBy, resolveBy, lastSeen, occurrences, escalationLevel, shelvedUntil } = doc;
  // Every string here is cut (a key or an asset as long as a signal allowed must not make it large): a fixed set of short fields.
  return frame(seq, {
    id: cut(id), version, key: cut(key), gateway: cut(gateway), asset: cut(asset), area: cut(area), line: cut(line), fault: cut(fault), category: cut(category), priority, rule: cut(rule), title: cut(doc.title),
    state, condition, openedAt, updatedAt, respondBy, resolveBy, lastSeen, occurrences, escalationLevel, shelvedUntil,
    membersTotal: doc.members.length, events: [], truncated: true,
  });
}
