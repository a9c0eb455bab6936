import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

interface Entry {
  due: number;
  seq: number;
  action: VirtualAction<unknown>;
  state: unknown;
}

class VirtualAction<T> extends Subscription implements SchedulerAction<T> {
  pending = -1;
  constructor(
    private readonly scheduler: VirtualScheduler,
    readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }
  schedule(state?: T, delay = 0): Subscription {
    if (!this.closed) this.scheduler.enqueue(this as VirtualAction<unknown>, state, delay);
    return this;
  }
}

/**
 * Virtual time for replay: `now()` is the time of the record being replayed,
 * and `advanceTo(t)` runs every timer due up to `t` in order. A binary heap
 * keeps scheduling O(log n) with tens of thousands of timers (RxJS's own
 * VirtualTimeScheduler sorts its whole queue on every schedule).
 */
export class VirtualScheduler implements SchedulerLike {
  private frame: number;
  private seq = 0;
  private readonly heap: Entry[] = [];

  constructor(start = 0) {
    this.frame = start;
  }

  now(): number {
    return this.frame;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const action = new VirtualAction<T>(this, work);
    return action.schedule(state, delay);
  }

  /** Pending timers (for tests and progress). */
  get size(): number {
    return this.heap.length;
  }

  /** Runs every timer due at or before `t`, then sets the clock to `t` (never backwards). */
  advanceTo(t: number): void {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.due > t) break;
      this.pop();
      if (top.action.closed || top.action.pending !== top.seq) continue;
      top.action.pending = -1;
      if (top.due > this.frame) this.frame = top.due;
      top.action.work.call(top.action, top.state);
    }
    if (t > this.frame) this.frame = t;
  }

  /** Runs every timer, however far away: the end of a replay. */
  flush(limit = Number.MAX_SAFE_INTEGER): void {
    this.advanceTo(limit);
  }

  /** @internal */
  enqueue(action: VirtualAction<unknown>, state: unknown, delay: number): void {
    const entry: Entry = { due: this.frame + Math.max(0, delay), seq: this.seq++, action, state };
    action.pending = entry.seq;
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Entry, h[p] as Entry)) break;
      [h[i], h[p]] = [h[p] as Entry, h[i] as Entry];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Entry;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as Entry, h[m] as Entry)) m = l;
      if (r < h.length && before(h[r] as Entry, h[m] as Entry)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Entry, h[i] as Entry];
      i = m;
    }
  }
}

const before = (a: Entry, b: Entry) => a.due < b.due || (a.due === b.due && a.seq < b.seq);
