import type { Logger } from 'pino';
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { TicketStore } from '../store/store.ts';
import type { CentralLink, OutboxHead, Settlement } from '../store/outbox.ts';
import { errorText } from '../redact.ts';
import type { TicketDoc } from '../../model/ticket.ts';
import { CentralHealth, fullJitter } from './central-health.ts';
import { Batch, settledWithin, Wakeup } from './pump.ts';
import { ForwardError, type ForwardedTicket, type Sink } from './sink.ts';

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
}

const HOT_MAX = 1000;
const MAX_RETRY_AFTER = 3_600_000;

/**
 * Store-and-forward (contracts §Central API): reads the outbox, sends each ticket's current
 * snapshot (pending versions coalesce into the newest), one request per ticket
 * at a time and up to `concurrency` tickets at once; settles outcomes on disk
 * in batched transactions. The backlog stays on disk: the forwarder holds at
 * most `batch` ids read ahead plus the tickets in flight. Fresh commits go to
 * the front (alternating with the backlog, so neither starves).
 */
export function createForwarder(deps: ForwarderDeps) {
  const { store, sink, scheduler } = deps;
  const random = deps.random ?? Math.random;
  const base = deps.backoff?.base ?? 1_000;
  const max = deps.backoff?.max ?? 300_000;
  const batch = deps.batch ?? 100;
  const log = deps.log?.child({ component: 'forward' });
  const deliveries$ = new Subject<Delivery>();
  const health = new CentralHealth({ base, max, threshold: deps.circuitThreshold ?? 3, random }, (open) =>
    open ? log?.warn({ code: 'ANDON_FORWARD_RETRY' }, 'central does not answer; probing with one request at a time') : log?.info('central answers again'),
  );
  /** Tickets in flight or waiting for their outcome to be written: none of them is sent again meanwhile. */
  const busy = new Map<string, Promise<void>>();
  /** Tickets committed to while busy: looked at again once their outcome is on disk. */
  const changedWhileBusy = new Set<string>();
  const hot = new Set<string>();
  let backlog: string[] = [];
  let turn = 0;
  let sub: Subscription | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  const abort = new AbortController();
  const wakeup = new Wakeup(scheduler, () => pump());
  const kick = () => wakeup.soon();
  const schedule = (at: number, now: number) => wakeup.at(at, now);
  /** Outcomes that arrive together are written in one transaction (one fsync). */
  const settled = new Batch<{ s: Settlement | null; d: Delivery }>(flush);
  const settle = (x: { s: Settlement | null; d: Delivery }) => settled.push(x);

  function pump(): void {
    if (!started || stopping) return;
    const now = scheduler.now();
    try {
      const read = { empty: false };
      while (busy.size < deps.concurrency && health.allows(now, busy.size)) {
        const id = next(now, read);
        if (id === undefined) break;
        dispatch(id, now);
      }
      arm(now);
    } catch (err) {
      // The store failed (disk, closed): try again later rather than stop forwarding for good.
      log?.error({ err, code: 'ANDON_STORE_UNAVAILABLE' }, 'cannot read the outbox');
      schedule(now + base, now);
    }
  }

  /**
   * The next ticket to look at: fresh commits and the backlog in turn, the backlog read from disk in
   * batches (at most one read per pump that finds nothing, so a steady stream of fresh ids costs no query each).
   */
  function next(now: number, read: { empty: boolean }): string | undefined {
    for (;;) {
      const hotTurn = hot.size > 0 && turn++ % 2 === 0;
      if (!hotTurn && backlog.length === 0 && !read.empty) {
        backlog = store.outbox.due(now, batch, busy.keys());
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
      if (!busy.has(id)) return id;
      changedWhileBusy.add(id);
    }
  }

  function dispatch(id: string, now: number): void {
    const head = store.outbox.head(id);
    if (!head || head.nextAttemptAt > now) return;
    const doc = store.doc(id);
    if (!doc) {
      settle({ s: { kind: 'delivered', ticketId: id, version: head.version, central: null }, d: { ticketId: id, version: head.version, outcome: 'ok', error: 'ticket gone' } });
      return;
    }
    // The events central has not acknowledged (one per version): a forwarded version does not grow with the history.
    const historyFrom = Math.min(doc.central?.syncedVersion ?? 0, doc.version);
    const history = store.eventsSince(id, historyFrom);
    busy.set(id, send(oneEventPerVersion(doc.version, historyFrom, history) ? { ...doc, history, historyFrom } : whole(doc), head));
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
    return { ...doc, history: store.history(doc.id).map((e, index) => ({ ...e, index })), historyFrom: 0 };
  }

  async function send(ticket: ForwardedTicket, head: OutboxHead): Promise<void> {
    const ticketId = ticket.id;
    const version = ticket.version;
    try {
      const ref = await sink.put(ticket, abort.signal);
      health.answered();
      settle({ s: { kind: 'delivered', ticketId, version, central: { id: ref.id, url: ref.url, syncedVersion: version } }, d: { ticketId, version, outcome: 'ok' } });
    } catch (err) {
      const now = scheduler.now();
      // Stored as lastError, logged and shown by the API: central or undici may have put the URL in it.
      const error = errorText(err);
      if (abort.signal.aborted) {
        settle({ s: null, d: { ticketId, version, outcome: 'aborted', error } });
      } else if (err instanceof ForwardError && err.kind === 'conflict') {
        health.answered();
        const central: CentralLink | null = err.ref
          ? { id: err.ref.id, url: err.ref.url, syncedVersion: version }
          : ticket.central && { ...ticket.central, syncedVersion: version };
        settle({ s: { kind: 'delivered', ticketId, version, central }, d: { ticketId, version, outcome: 'conflict', error } });
      } else if (err instanceof ForwardError && err.kind === 'poison') {
        health.answered();
        log?.warn({ code: 'ANDON_FORWARD_POISON', ticket: ticketId, version, status: err.status, err: error }, 'central refused the ticket; its outbox rows are parked');
        settle({ s: { kind: 'park', ticketId, version, at: now, error }, d: { ticketId, version, outcome: 'poison', error } });
      } else {
        if (!(err instanceof ForwardError)) log?.error({ err, ticket: ticketId, version }, 'the sink failed unexpectedly; retrying');
        // Honoured, up to an hour: a central that says "come back tomorrow" must not silence forwarding that long.
        // A history gap (central holds less than we thought) goes again at once, the first time: a central that
        // answers gaps again and again backs off like any failure instead of being asked in a tight loop.
        const gap = err instanceof ForwardError && err.status === 409 && err.ref !== undefined;
        const retryAfter = err instanceof ForwardError && err.retryAfterMs !== undefined && !(gap && head.attempts > 0) ? Math.min(err.retryAfterMs, MAX_RETRY_AFTER) : undefined;
        health.failed(now, retryAfter);
        const attempts = head.attempts + 1;
        const nextAttemptAt = now + (retryAfter ?? fullJitter(attempts, base, max, random));
        log?.debug({ code: 'ANDON_FORWARD_RETRY', ticket: ticketId, version, attempts, nextAttemptAt, err: error }, 'delivery failed; backing off');
        // A history gap (central holds less than we thought): the link goes back to what central holds.
        const resync = err instanceof ForwardError && err.status === 409 && err.ref ? { id: err.ref.id, url: err.ref.url, syncedVersion: err.ref.version } : undefined;
        settle({
          s: { kind: 'retry', ticketId, attempts, nextAttemptAt, error, ...(resync ? { resync } : {}) },
          d: { ticketId, version, outcome: 'retry', error, attempts, nextAttemptAt },
        });
      }
    }
  }

  function flush(list: { s: Settlement | null; d: Delivery }[]): void {
    try {
      store.outbox.settle(list.flatMap((x) => (x.s ? [x.s] : [])));
    } catch (err) {
      // Not written: the rows stay as they were and the versions go again (central dedupes them).
      log?.error({ err, code: 'ANDON_STORE_UNAVAILABLE', n: list.length }, 'cannot record delivery outcomes');
    }
    for (const { d } of list) {
      busy.delete(d.ticketId);
      if (changedWhileBusy.delete(d.ticketId) && hot.size < HOT_MAX) hot.add(d.ticketId);
      deliveries$.next(d);
    }
    pump();
  }

  /** Sets the one timer for when something can go next: a hold ending, or the next backoff running out. */
  function arm(now: number): void {
    let at = health.heldUntil(now) || Infinity;
    if (at === Infinity && busy.size < deps.concurrency && hot.size === 0 && backlog.length === 0) {
      const due = store.outbox.nextDueAt(busy.keys());
      if (due !== null && due > now) at = due;
    }
    schedule(Math.min(at, now + (deps.idleCheckMs ?? 30_000)), now);
  }

  return {
    /** Every request's outcome, once it is on disk. */
    deliveries$: deliveries$.asObservable(),
    start(): void {
      if (started) return;
      started = true;
      sub = deps.changes$.subscribe(({ ticket }) => {
        if (busy.has(ticket.id)) changedWhileBusy.add(ticket.id);
        else if (hot.size < HOT_MAX) hot.add(ticket.id);
        kick();
      });
      kick();
    },
    /** Looks at the outbox now (after `andon outbox retry` or an un-park through the API); an open circuit probes at once. */
    wake(): void {
      health.probeNow(scheduler.now());
      kick();
    },
    /** Requests in flight (or settling) right now. */
    inFlight: (): number => busy.size,
    /**
     * Stops in bounded time: aborts requests in flight (their versions stay in
     * the outbox and go after the next start), writes the outcomes that are in.
     */
    stop(): Promise<void> {
      stopping ??= (async () => {
        sub?.unsubscribe();
        wakeup.cancel();
        abort.abort();
        await settledWithin([...busy.values()], deps.stopTimeoutMs ?? 5_000);
        settled.flush();
        deliveries$.complete();
      })();
      return stopping;
    },
  };
}

export type Forwarder = ReturnType<typeof createForwarder>;
