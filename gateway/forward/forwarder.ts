import type { Logger } from 'pino';
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { IndexedEvent, TicketStore } from '../store/store.ts';
import type { CentralLink, OutboxHead, Settlement } from '../store/outbox.ts';
import { errorText } from '../redact.ts';
import { copyTicket, type TicketDoc } from '../../model/ticket.ts';
import { createDeliveryWorker, type Verdict } from '../delivery/worker.ts';
import { ForwardError, type ForwardedTicket, type Sink } from './sink.ts';

/** A doc and the history it goes with (copyTicket: a spread of the doc's 51 fields is V8's slow path). */
function forwarded(doc: TicketDoc, history: IndexedEvent[], historyFrom: number): ForwardedTicket {
  const t = copyTicket(doc) as ForwardedTicket;
  t.history = history;
  t.historyFrom = historyFrom;
  return t;
}

/** What became of one request to central (the `outcome` label of andon_forward_requests_total). */
export const OUTCOMES = ['ok', 'conflict', 'retry', 'poison', 'aborted'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One request and its outcome, published once the outcome is on disk. */
export interface Delivery {
  ticketId: string;
  version: number;
  outcome: Outcome;
  error?: string;
  /** For `retry`: the ticket's attempts so far and when it is tried next. */
  attempts?: number;
  nextAttemptAt?: number;
}

export interface ForwarderDeps {
  store: TicketStore;
  sink: Sink;
  /** Committed ticket changes (runtime.engine.changes$): each wakes the forwarder for that ticket. */
  changes$: Observable<{ ticket: { id: string } }>;
  /** Time for backoff, due times and timers (virtual in tests). */
  scheduler: SchedulerLike;
  random?: () => number;
  /** Tickets in flight at once; never two requests for one ticket. */
  concurrency: number;
  backoff?: { base: number; max: number };
  /** Ticket ids read from the outbox per query. */
  batch?: number;
  /** Failures in a row (no answer from central) before probing one request at a time. */
  circuitThreshold?: number;
  /** Wall-clock bound for `stop()` when a sink ignores the abort. */
  stopTimeoutMs?: number;
  /** With nothing to wait for, look at the outbox this often anyway: another process (`andon outbox retry`) may have changed it. */
  idleCheckMs?: number;
  log?: Logger;
  /** The circuit opened (central does not answer) or closed again (andon_forward_up). */
  onCircuit?: (open: boolean) => void;
}

const HOT_MAX = 1000;
const CENTRAL = 'central';

/** One ticket to send: its outbox head and what goes (null: the ticket is gone, its rows just go). */
interface Job {
  id: string;
  head: OutboxHead;
  ticket: ForwardedTicket | null;
}
type Rec = { s: Settlement | null; d: Delivery };

/**
 * Store-and-forward (contracts §Central API): the forwarding policy of the delivery worker
 * (gateway/delivery/worker.ts), which owns wake-up, concurrency, backoff,
 * Retry-After, the circuit, batched outcome writes and stop. This file says
 * what is due and what an answer means: each ticket's current snapshot goes
 * (pending versions coalesce into the newest), one request per ticket at a
 * time and up to `concurrency` tickets at once. The backlog stays on disk: the
 * forwarder holds at most `batch` ids read ahead plus the tickets in flight.
 * Fresh commits go to the front (alternating with the backlog, so neither starves).
 */
export function createForwarder(deps: ForwarderDeps) {
  const { store, sink, scheduler } = deps;
  const backoff = { base: deps.backoff?.base ?? 1_000, max: deps.backoff?.max ?? 300_000 };
  const batch = deps.batch ?? 100;
  const log = deps.log?.child({ component: 'forward' });
  const deliveries$ = new Subject<Delivery>();
  /** Tickets committed to while busy: looked at again once their outcome is on disk. */
  const changedWhileBusy = new Set<string>();
  const hot = new Set<string>();
  let backlog: string[] = [];
  let turn = 0;
  let sub: Subscription | undefined;

  const worker = createDeliveryWorker<Job, string, Rec>(
    {
      lanes: [
        {
          id: CENTRAL,
          concurrency: deps.concurrency,
          backoff,
          circuit: {
            threshold: deps.circuitThreshold ?? 3,
            onChange: (open) => {
              deps.onCircuit?.(open);
              if (open) log?.warn({ code: 'ANDON_FORWARD_RETRY' }, 'central does not answer; probing with one request at a time');
              else log?.info('central answers again');
            },
          },
        },
      ],
      key: (job) => job.id,
      take,
      deliver,
      failed,
      aborted: (job, err) => ({ s: null, d: { ticketId: job.id, version: job.head.version, outcome: 'aborted', error: errorText(err) } }),
      write: (records) => store.outbox.settle(records.flatMap((r) => (r.s ? [r.s] : []))),
      settled: ({ d }) => {
        if (changedWhileBusy.delete(d.ticketId) && hot.size < HOT_MAX) hot.add(d.ticketId);
        deliveries$.next(d);
      },
    },
    {
      scheduler,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.idleCheckMs !== undefined ? { idleCheckMs: deps.idleCheckMs } : {}),
      stopTimeoutMs: deps.stopTimeoutMs ?? 5_000,
      log,
      messages: { readFailed: 'cannot read the outbox', writeFailed: 'cannot record delivery outcomes' },
    },
  );

  /** Up to `room` due tickets, and when to look again: the next backoff running out, once nothing else waits. */
  function take(_lane: unknown, now: number, room: number, busy: ReadonlyMap<string, unknown>): { jobs: Job[]; wakeAt: number } {
    const jobs: Job[] = [];
    const picked = new Set<string>();
    const read = { empty: false };
    while (jobs.length < room) {
      const id = next(now, read, busy, picked);
      if (id === undefined) break;
      const job = prepare(id, now);
      if (job) {
        jobs.push(job);
        picked.add(id);
      }
    }
    let wakeAt = Infinity;
    if (busy.size + jobs.length < deps.concurrency && hot.size === 0 && backlog.length === 0) {
      const due = store.outbox.nextDueAt([...busy.keys(), ...picked]);
      if (due !== null && due > now) wakeAt = due;
    }
    return { jobs, wakeAt };
  }

  /**
   * The next ticket to look at: fresh commits and the backlog in turn, the backlog read from disk in
   * batches (at most one read per pump that finds nothing, so a steady stream of fresh ids costs no query each).
   */
  function next(now: number, read: { empty: boolean }, busy: ReadonlyMap<string, unknown>, picked: ReadonlySet<string>): string | undefined {
    for (;;) {
      const hotTurn = hot.size > 0 && turn++ % 2 === 0;
      if (!hotTurn && backlog.length === 0 && !read.empty) {
        backlog = store.outbox.due(now, batch, [...busy.keys(), ...picked]);
        read.empty = backlog.length === 0;
      }
      let id: string;
      if (hot.size > 0 && (hotTurn || backlog.length === 0)) {
        id = hot.values().next().value as string;
        hot.delete(id);
      } else if (backlog.length > 0) {
        id = backlog.shift() as string;
      } else {
        return undefined;
      }
      if (!busy.has(id) && !picked.has(id)) return id;
      changedWhileBusy.add(id);
    }
  }

  /** What goes for ticket `id` now; undefined when nothing of it is due. */
  function prepare(id: string, now: number): Job | undefined {
    const head = store.outbox.head(id);
    if (!head || head.nextAttemptAt > now) return undefined;
    const doc = store.doc(id);
    if (!doc) return { id, head, ticket: null };
    // The events central has not acknowledged (one per version): a forwarded version does not grow with the history.
    const historyFrom = Math.min(doc.central?.syncedVersion ?? 0, doc.version);
    const history = store.eventsSince(id, historyFrom);
    return { id, head, ticket: oneEventPerVersion(doc.version, historyFrom, history) ? forwarded(doc, history, historyFrom) : whole(doc) };
  }

  /**
   * Indexes are versions - 1 (store.eventsSince): right while every version adds exactly one event
   * (store `save()`). Checked on every delta (cheap: it is in hand); a delta that breaks it (a version
   * with no event or several) goes with the whole history indexed by position instead, never with wrong indexes.
   */
  function oneEventPerVersion(version: number, from: number, history: readonly { index: number }[]): boolean {
    return history.length === version - from && history.every((e, i) => e.index === from + i);
  }
  function whole(doc: TicketDoc): ForwardedTicket {
    log?.warn({ ticket: doc.id, version: doc.version }, 'history events are not one per version: sending the whole history');
    return forwarded(doc, store.history(doc.id).map((e, index) => ({ ...e, index })), 0);
  }

  async function deliver(job: Job, signal: AbortSignal): Promise<Verdict<Rec>> {
    const { id: ticketId, head, ticket } = job;
    if (!ticket) return { kind: 'done', record: { s: { kind: 'delivered', ticketId, version: head.version, central: null }, d: { ticketId, version: head.version, outcome: 'ok', error: 'ticket gone' } } };
    const version = ticket.version;
    const ref = await sink.put(ticket, signal);
    return { kind: 'done', answered: true, record: { s: { kind: 'delivered', ticketId, version, central: { id: ref.id, url: ref.url, syncedVersion: version } }, d: { ticketId, version, outcome: 'ok' } } };
  }

  /** What central's answer (or its silence) means for the ticket. */
  function failed(job: Job, err: unknown, now: number): Verdict<Rec> {
    const { id: ticketId, head } = job;
    const ticket = job.ticket as ForwardedTicket;
    const version = ticket.version;
    // Stored as lastError, logged and shown by the API: central or undici may have put the URL in it.
    const error = errorText(err);
    if (err instanceof ForwardError && err.kind === 'conflict') {
      const central: CentralLink | null = err.ref ? { id: err.ref.id, url: err.ref.url, syncedVersion: version } : ticket.central && { ...ticket.central, syncedVersion: version };
      return { kind: 'done', answered: true, record: { s: { kind: 'delivered', ticketId, version, central }, d: { ticketId, version, outcome: 'conflict', error } } };
    }
    if (err instanceof ForwardError && err.kind === 'poison') {
      log?.warn({ code: 'ANDON_FORWARD_POISON', ticket: ticketId, version, status: err.status, err: error }, 'central refused the ticket; its outbox rows are parked');
      return { kind: 'park', answered: true, record: { s: { kind: 'park', ticketId, version, at: now, error }, d: { ticketId, version, outcome: 'poison', error } } };
    }
    if (!(err instanceof ForwardError)) log?.error({ err, ticket: ticketId, version }, 'the sink failed unexpectedly; retrying');
    // Retry-After is honoured (the worker caps it at an hour). A history gap (central holds less than we
    // thought) goes again at once, the first time: a central that answers gaps again and again backs off
    // like any failure instead of being asked in a tight loop.
    const gap = err instanceof ForwardError && err.status === 409 && err.ref !== undefined;
    const retryAfterMs = err instanceof ForwardError && err.retryAfterMs !== undefined && !(gap && head.attempts > 0) ? err.retryAfterMs : undefined;
    const attempts = head.attempts + 1;
    // A history gap (central holds less than we thought): the link goes back to what central holds.
    const resync = err instanceof ForwardError && err.status === 409 && err.ref ? { id: err.ref.id, url: err.ref.url, syncedVersion: err.ref.version } : undefined;
    return {
      kind: 'retry',
      attempts,
      retryAfterMs,
      record: (nextAttemptAt) => {
        log?.debug({ code: 'ANDON_FORWARD_RETRY', ticket: ticketId, version, attempts, nextAttemptAt, err: error }, 'delivery failed; backing off');
        return {
          s: { kind: 'retry', ticketId, attempts, nextAttemptAt, error, ...(resync ? { resync } : {}) },
          d: { ticketId, version, outcome: 'retry', error, attempts, nextAttemptAt },
        };
      },
    };
  }

  let stopping: Promise<void> | undefined;
  return {
    /** Every request's outcome, once it is on disk. */
    deliveries$: deliveries$.asObservable(),
    start(): void {
      if (sub) return;
      sub = deps.changes$.subscribe(({ ticket }) => {
        if (worker.busy(CENTRAL, ticket.id)) changedWhileBusy.add(ticket.id);
        else if (hot.size < HOT_MAX) hot.add(ticket.id);
        worker.kick();
      });
      worker.start();
    },
    /** Looks at the outbox now (after `andon outbox retry` or an un-park through the API); an open circuit probes at once. */
    wake(): void {
      worker.wake();
    },
    /** Requests in flight (or settling) right now. */
    inFlight: (): number => worker.inFlight(),
    /**
     * Stops in bounded time: aborts requests in flight (their versions stay in
     * the outbox and go after the next start), writes the outcomes that are in.
     */
    stop(): Promise<void> {
      stopping ??= (async () => {
        sub?.unsubscribe();
        await worker.stop();
        deliveries$.complete();
      })();
      return stopping;
    },
  };
}

export type Forwarder = ReturnType<typeof createForwarder>;
