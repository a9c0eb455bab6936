/**
 * Raise history per key, grouped into episodes: raises closer together than
 * `gap` (the chatter window) are one episode. Shared by recurrence and causes.
 */
export class EpisodeLog {
  /** Episode start times per key, oldest first. */
  private readonly starts = new Map<string, number[]>();
  private readonly lastRaise = new Map<string, number>();
  private lastPrune = -Infinity;
  /** Every episode start of every key in time order (for "what happened just before"). */
  readonly timeline: { at: number; key: string; asset: string | null; fault: string }[] = [];

  constructor(
    private readonly gap: number,
    private readonly retention: number,
  ) {}

  /** Records a raise; returns true when it starts a new episode. */
  add(key: string, asset: string | null, fault: string, at: number): boolean {
    const last = this.lastRaise.get(key);
    this.lastRaise.set(key, at);
    if (last !== undefined && at - last < this.gap) return false;
    let list = this.starts.get(key);
    if (!list) {
      list = [];
      this.starts.set(key, list);
    }
    list.push(at);
    this.timeline.push({ at, key, asset, fault });
    this.prune(at);
    return true;
  }

  /** Episode starts of a key within (now - window, now]. */
  of(key: string, now: number, window: number): number[] {
    return (this.starts.get(key) ?? []).filter((t) => now - t < window && t <= now);
  }

  /** Index of the first timeline entry at or after `t` (binary search). */
  indexAt(t: number): number {
    let lo = 0;
    let hi = this.timeline.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.timeline[mid] as { at: number }).at < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private prune(now: number): void {
    // Amortised: at most ten prunes per retention period.
    if (now - this.lastPrune < this.retention / 10) return;
    this.lastPrune = now;
    const cut = now - this.retention;
    const i = this.indexAt(cut);
    this.timeline.splice(0, i);
    for (const [key, list] of this.starts) {
      const keep = list.filter((t) => t >= cut);
      if (keep.length === 0) this.starts.delete(key);
      else this.starts.set(key, keep);
    }
  }
}
