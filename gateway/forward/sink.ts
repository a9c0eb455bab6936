import type { IndexedEvent } from '../store/store.ts';
import type { Ticket } from '../../model/ticket.ts';

/**
 * A ticket version as it goes to central: the Ticket JSON whose `history` holds only the events central
 * has not acknowledged (each with its `index`), starting at index `historyFrom` (= the events central has:
 * one per version, so its acknowledged version). Whole tickets (`historyFrom` 0) for a first delivery.
 */
export type ForwardedTicket = Omit<Ticket, 'history'> & { history: IndexedEvent[]; historyFrom: number };

/** A whole ticket (its history from the first event) as a ForwardedTicket; a ForwardedTicket as it is. */
export function asForwarded(t: Ticket | ForwardedTicket): ForwardedTicket {
  if ('historyFrom' in t) return t;
  return { ...t, history: t.history.map((e, index) => ({ ...e, index })), historyFrom: 0 };
}

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

/**
 * How a delivery failed, which decides what the forwarder does:
 * - `retry`: 5xx, timeout, connection error, 429 (with `retryAfterMs`) → back off and try again;
 * - `conflict`: central already holds a newer version (409) → done, mark synced;
 *   a `retry` with a `ref` is central saying it holds less history than the gateway thought (409
 *   CENTRAL_HISTORY_GAP): the next attempt, at once, sends the events from `ref.version` on;
 * - `poison`: any other 4xx → park the row, count it, alert; never block other tickets.
 * A conflict may carry central's `ref` (where the newer version lives) for the ticket's link.
 */
export class ForwardError extends Error {
  constructor(
    readonly kind: 'retry' | 'conflict' | 'poison',
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
    readonly ref?: CentralRef,
  ) {
    super(message);
    this.name = 'ForwardError';
  }
}

/** Whether a sink can deliver now, and if not, why (andon_forward_up). */
export interface SinkState {
  up: boolean;
  problem?: string;
}

/** A central ticket system (contracts §Central API). One implementation per `forward.type`. */
export interface Sink {
  /** Puts the ticket snapshot with the history central lacks (idempotent per id and version); throws ForwardError. */
  put(ticket: ForwardedTicket | Ticket, signal: AbortSignal): Promise<CentralRef>;
  /** Changes made at central since `cursor` (null: from now on), and the next cursor. */
  changes?(cursor: string | null, signal: AbortSignal): Promise<{ changes: CentralChange[]; cursor: string }>;
  close?(): Promise<void>;
  /** Sinks that know their connection (nats): the state now, and each change of it. */
  state?(): SinkState;
  onState?(listener: (s: SinkState) => void): () => void;
  /** Sinks that push changes from central (nats): `apply` commits them (throws when the store fails); the sink acks after. */
  follow?(apply: (changes: CentralChange[]) => void): void;
}
