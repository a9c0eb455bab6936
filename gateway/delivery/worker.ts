import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import { backoff, type BackoffOptions } from '../../model/backoff.ts';
import { Circuit } from './circuit.ts';
import { Batch, settledWithin, Wakeup } from './pump.ts';

/** A Retry-After is honoured up to an hour: a receiver that says "come back tomorrow" must not silence delivery that long. */
export const MAX_RETRY_AFTER = 3_600_000;

/**
 * One receiver as the worker sees it: a line of work with its own concurrency,
 * backoff and (optionally) circuit. The forwarder has one (central), the
 * notifier one per channel; lanes never wait for each other.
 */
export interface Lane {
  id: string;
  /** Items in flight at once. */
  concurrency: number;
  /** Per-item backoff (full jitter) after a retryable failure; `base` is also the wait after a failed queue read. */
  backoff: Pick<BackoffOptions, 'base' | 'max'>;
  /** Failures in a row without an answer before the circuit opens (one probe at a time); none: no circuit. */
  circuit?: { threshold: number; onChange?: (open: boolean) => void };
  /** Added to the worker's log lines about this lane. */
  fields?: Record<string, unknown>;
}

/** What one attempt came to, as the policy judges it. */
export type Verdict<R> =
  /** Nothing left to do (delivered, dropped, a conflict that settles it); `answered`: the receiver answered. */
  | { kind: 'done'; record: R; answered?: boolean }
  /** Out of the line until a person retries it (poison, refused, expired). */
  | { kind: 'park'; record: R; answered?: boolean }
  /** Try again after `attempts` failures: the worker picks the time (Retry-After capped, else backoff) and feeds the circuit. */
  | { kind: 'retry'; attempts: number; retryAfterMs?: number | undefined; record: (nextAttemptAt: number) => R };

/**
 * What a queue needs to tell the worker: what is due, how to deliver one item,
 * what a failure means, and how outcomes are written. Items are read from the
 * queue on disk when there is room; the policy keeps order (per ticket, per
 * channel) by what `take` returns.
 */
export interface DeliveryPolicy<Job, Key, R> {
  lanes: readonly Lane[];
  key(job: Job): Key;
  /**
   * Up to `room` items of `lane` to start now (never one in `busy`), and when
   * to look at the lane again if nothing else happens (Infinity: at the next
   * outcome or wake). May throw (the store failed): looked at again after `backoff.base`.
   */
  take(lane: Lane, now: number, room: number, busy: ReadonlyMap<Key, unknown>): { jobs: Job[]; wakeAt: number };
  /** Delivers one item; throws what the receiver answered (judged by `failed`). */
  deliver(job: Job, signal: AbortSignal, lane: Lane): Promise<Verdict<R>>;
  /** What a failed attempt means (not called for an abort by `stop`). */
  failed(job: Job, err: unknown, now: number, lane: Lane): Verdict<R>;
  /** The record of an attempt aborted by `stop` (the item stays queued). */
  aborted(job: Job, err: unknown, lane: Lane): R;
  /** Writes outcomes that came in together (one transaction). May throw: the items stay as they were. */
  write(records: R[]): void;
  /** After the write, per record, once the item's key is free again. */
  settled(record: R, lane: Lane): void;
}

export interface WorkerDeps {
  /** Time for backoff, due times and timers (virtual in tests). */
  scheduler: SchedulerLike;
  /** Jitter source, in [0, 1). */
  random?: () => number;
  /** With nothing to wait for, look at the queue this often anyway: another process may have changed it. */
  idleCheckMs?: number;
  /** Wall-clock bound for `stop()` when a receiver ignores the abort. */
  stopTimeoutMs?: number;
  log?: Logger | undefined;
  /** Log messages for a failed queue read and a failed outcome write. */
  messages?: { readFailed?: string; writeFailed?: string };
}

interface LaneState<Key> {
  lane: Lane;
  /** Items in flight or waiting for their outcome to be written: none of them is started again meanwhile. */
  busy: Map<Key, Promise<void>>;
  circuit: Circuit | undefined;
}

/**
 * The durable delivery worker (after Alertmanager's notifier and its retry
 * stage): one loop for every outbox-like queue on disk.
 *
 *   wake (commit, timer, wake()) ──► take(lane, room) ──► deliver ──► verdict
 *        ▲                                                          │ done / park / retry(Retry-After ≤ 1 h, else backoff)
 *        └── pump ◄── settled (per record) ◄── write([...]) one transaction (outcomes batched per macrotask)
 *
 * - **Wake-up:** `kick()` once after the current synchronous work however often
 *   asked; one timer for the earliest time any lane asked for (a backoff or a
 *   circuit hold running out), else every `idleCheckMs`.
 * - **Concurrency:** at most `lane.concurrency` items per lane in flight; an
 *   item in flight or settling is never started again (its key stays busy).
 * - **Backoff:** `backoff(attempts, lane.backoff)` with full jitter, or the
 *   receiver's Retry-After capped at `MAX_RETRY_AFTER`.
 * - **Circuit** (lanes that have one): a Retry-After holds the lane; after
 *   `threshold` failures in a row without an answer, one probe at a time,
 *   spaced by the circuit's own backoff, until the receiver answers (`Circuit`).
 * - **Park and retry:** the policy's verdict; the worker writes nothing itself.
 * - **Stop:** aborts requests in flight (their items stay queued), waits for
 *   them at most `stopTimeoutMs`, writes the outcomes that are in.
 */
export function createDeliveryWorker<Job, Key, R>(policy: DeliveryPolicy<Job, Key, R>, deps: WorkerDeps) {
  const { scheduler } = deps;
  const random = deps.random ?? Math.random;
  const idleCheckMs = deps.idleCheckMs ?? 30_000;
  const log = deps.log;
  const lanes = new Map<string, LaneState<Key>>(
    policy.lanes.map((lane) => [
      lane.id,
      {
        lane,
        busy: new Map(),
        circuit: lane.circuit && new Circuit({ base: lane.backoff.base, max: lane.backoff.max, threshold: lane.circuit.threshold, random }, lane.circuit.onChange),
      },
    ]),
  );
  let started = false;
  let stopping: Promise<void> | undefined;
  const abort = new AbortController();
  const wakeup = new Wakeup(scheduler, () => pump());
  type Outcome = { st: LaneState<Key>; key: Key; record: R };
  const outcomes = new Batch<Outcome>(flush);

  function pump(): void {
    if (!started || stopping) return;
    const now = scheduler.now();
    let wake = now + idleCheckMs;
    for (const st of lanes.values()) {
      try {
        wake = Math.min(wake, pumpLane(st, now));
      } catch (err) {
        // The store failed (disk, closed): look again later rather than stop delivering for good.
        log?.error({ err, code: 'ANDON_STORE_UNAVAILABLE', ...st.lane.fields }, deps.messages?.readFailed ?? 'cannot read the delivery queue');
        wake = Math.min(wake, now + st.lane.backoff.base);
      }
    }
    wakeup.at(wake, now);
  }

  /** Starts what the lane allows now; returns when it must be looked at again. */
  function pumpLane(st: LaneState<Key>, now: number): number {
    const held = st.circuit?.heldUntil(now) ?? 0;
    if (held > 0) return held;
    let room = st.lane.concurrency - st.busy.size;
    if (st.circuit && !st.circuit.allows(now, st.busy.size)) room = 0;
    else if (st.circuit?.open) room = Math.min(room, 1);
    if (room <= 0) return Infinity;
    const { jobs, wakeAt } = policy.take(st.lane, now, room, st.busy);
    for (const job of jobs.slice(0, room)) start(st, job);
    return wakeAt;
  }

  function start(st: LaneState<Key>, job: Job): void {
    const key = policy.key(job);
    st.busy.set(
      key,
      attempt(st, job).then(
        (record) => outcomes.push({ st, key, record }),
        (err: unknown) => {
          // A policy bug: free the key (the item is still queued) rather than hold it busy for good.
          log?.error({ err, ...st.lane.fields }, 'a delivery attempt failed unexpectedly');
          st.busy.delete(key);
          wakeup.soon();
        },
      ),
    );
  }

  async function attempt(st: LaneState<Key>, job: Job): Promise<R> {
    let verdict: Verdict<R>;
    try {
      verdict = await policy.deliver(job, abort.signal, st.lane);
    } catch (err) {
      if (abort.signal.aborted) return policy.aborted(job, err, st.lane);
      verdict = policy.failed(job, err, scheduler.now(), st.lane);
    }
    if (verdict.kind !== 'retry') {
      if (verdict.answered) st.circuit?.answered();
      return verdict.record;
    }
    const now = scheduler.now();
    const after = verdict.retryAfterMs !== undefined ? Math.min(Math.max(verdict.retryAfterMs, 0), MAX_RETRY_AFTER) : undefined;
    st.circuit?.failed(now, after);
    return verdict.record(now + (after ?? backoff(verdict.attempts, st.lane.backoff, random)));
  }

  function flush(list: Outcome[]): void {
    try {
      policy.write(list.map((o) => o.record));
    } catch (err) {
      // Not written: the items stay as they were and go again (at least once).
      log?.error({ err, code: 'ANDON_STORE_UNAVAILABLE', n: list.length }, deps.messages?.writeFailed ?? 'cannot record delivery outcomes');
    }
    for (const { st, key, record } of list) {
      st.busy.delete(key);
      policy.settled(record, st.lane);
    }
    pump();
  }

  const states = () => [...lanes.values()];

  return {
    start(): void {
      if (started) return;
      started = true;
      wakeup.soon();
    },
    /** Looks at the queues soon (a commit, new work): once after the current synchronous work, however often asked. */
    kick(): void {
      wakeup.soon();
    },
    /** Looks at the queues now (a person un-parked or retried): an open circuit probes at once. */
    wake(): void {
      const now = scheduler.now();
      for (const st of states()) st.circuit?.probeNow(now);
      wakeup.soon();
    },
    /** Whether `key` of lane `laneId` is in flight or settling. */
    busy(laneId: string, key: Key): boolean {
      return lanes.get(laneId)?.busy.has(key) ?? false;
    },
    /** Items in flight (or settling) right now. */
    inFlight: (): number => states().reduce((n, st) => n + st.busy.size, 0),
    /** Whether the circuit of `laneId` is open (probing). */
    circuitOpen: (laneId: string): boolean => lanes.get(laneId)?.circuit?.open ?? false,
    /** Stops in bounded time: aborts requests in flight (their items stay queued), writes the outcomes that are in. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        wakeup.cancel();
        abort.abort();
        await settledWithin(
          states().flatMap((st) => [...st.busy.values()]),
          deps.stopTimeoutMs ?? 5_000,
        );
        outcomes.flush();
      })();
      return stopping;
    },
  };
}
