import type { IndexedEvent, TicketDoc } from '../tickets/ticket.ts';

/**
 * What the forwarder hands a sink for one ticket version: the ticket (design §4) whose `history`
 * holds only the events central has not acknowledged, each with its `index` in the full history,
 * and `historyFrom`, the index of the first of them (= how many events central already has).
 * `historyFrom: 0` means `history` is the whole history through this version. docs/contracts.md.
 */
export interface TicketDelta extends TicketDoc {
  history: IndexedEvent[];
  historyFrom: number;
}

/** The whole history as a delta (`historyFrom: 0`): for a ticket central never acknowledged, and for tests. */
export const fullDelta = (t: TicketDoc & { history: readonly object[] }): TicketDelta =>
  ({ ...t, history: t.history.map((e, index) => ({ ...e, index })), historyFrom: 0 }) as TicketDelta;

/** Where a ticket lives at central, as the sink reports it. */
export interface CentralRef {
  id: string;
  url: string | null;
  /** The version central now holds. */
  version: number;
}

/** A change made at central (assignment, human states) that comes back into the local lifecycle. */
export interface CentralChange {
  /** The Andon ticket id. */
  ticketId: string;
  /** A lifecycle action (ack, start, resolve, close, assign, ...) with its fields. */
  action: string;
  by: string;
  at: number;
  fields: Record<string, unknown>;
}

/** What central says it holds of a ticket when it lacks history events before a delta (a `gap`). */
export interface CentralHolds {
  /** The version central holds (0: it does not have the ticket). */
  version: number;
  /** How many history events it holds (the `historyFrom` it can take). */
  events: number;
}

/**
 * How a delivery failed, which decides what the forwarder does:
 * - `retry`: 5xx, timeout, connection error, 429 (with `retryAfterMs`) → back off and try again;
 * - `conflict`: central already holds a newer version (409) → done, mark synced;
 * - `poison`: any other 4xx → park the row, count it, alert; never block other tickets;
 * - `gap`: central lacks history events before `historyFrom` (it lost the ticket, or holds an older
 *   version than the gateway recorded) and says what it `holds` → send again at once from there.
 * A conflict may carry central's `ref` (where the newer version lives) for the ticket's link.
 */
export class ForwardError extends Error {
  constructor(
    readonly kind: 'retry' | 'conflict' | 'poison' | 'gap',
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
    readonly ref?: CentralRef,
    readonly holds?: CentralHolds,
  ) {
    super(message);
    this.name = 'ForwardError';
  }
}

/** A central ticket system (docs/contracts.md, Central API). One implementation per `forward.type`. */
export interface Sink {
  /** Puts the ticket version with the history central lacks (idempotent per id and version); throws ForwardError. */
  put(ticket: TicketDelta, signal: AbortSignal): Promise<CentralRef>;
  /** Changes made at central since `cursor` (null: from now on), and the next cursor. */
  changes?(cursor: string | null, signal: AbortSignal): Promise<{ changes: CentralChange[]; cursor: string }>;
  close?(): Promise<void>;
}
