import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * When the delivery worker (./worker.ts) looks at its queues again:
 * `soon()` once after the current synchronous work however often it is asked
 * (commits come in bursts), and `at(t)` on one timer for the earliest time
 * asked for, on the injected scheduler (virtual in tests).
 */
export class Wakeup {
  private queued = false;
  private timer: Subscription | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly run: () => void,
  ) {}

  soon(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      this.run();
    });
  }

  /** Runs at `at` unless a timer for an earlier (or the same) time is already set. */
  at(at: number, now = this.scheduler.now()): void {
    if (this.timer && this.timerAt <= at) return;
    this.timer?.unsubscribe();
    this.timerAt = at;
    this.timer = this.scheduler.schedule(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.run();
    }, Math.max(0, at - now));
  }

  cancel(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}

/** Outcomes that arrive together are handled together on the next macrotask: one transaction, one fsync for all. */
export class Batch<T> {
  private items: T[] = [];
  private queued = false;

  constructor(private readonly handle: (items: T[]) => void) {}

  push(item: T): void {
    this.items.push(item);
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => this.flush());
  }

  /** Handles what is queued now (also called by `stop`). */
  flush(): void {
    this.queued = false;
    const list = this.items;
    this.items = [];
    if (list.length > 0) this.handle(list);
  }
}

/** Waits for `pending` to settle, at most `ms` of wall-clock time: a peer that ignores an abort must not hold a stop. */
export async function settledWithin(pending: readonly Promise<unknown>[], ms: number): Promise<void> {
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(pending), new Promise<void>((r) => (bound = setTimeout(r, ms)))]);
  clearTimeout(bound);
}
