import { describe, expect, it, vi } from 'vitest';
import {
  collectAfterStart,
  governHeap,
  growingFor,
  HEAP_GROWING_BURST,
  HEAP_GROWING_STEADY,
  HEAP_ROOM_MIN,
  heapFlags,
  nextGrowing,
  YOUNG_DRAINING,
} from './heap.ts';

const ALL = [`--heap-growing-percent=${HEAP_GROWING_STEADY}`, '--semi-space-growth-factor=1'];

/** The last `--heap-growing-percent` a governor set, in percent. */
const lastGrowing = (set: string[]) =>
  Number(
    set
      .filter((f) => f.startsWith('--heap-growing-percent='))
      .at(-1)
      ?.split('=')[1],
  );

describe('heapFlags', () => {
  it('caps the heap growth and the young generation when the operator gave no flag', () => {
    expect(heapFlags([], undefined)).toEqual(ALL);
    expect(heapFlags(['--enable-source-maps'], '--max-old-space-size=512')).toEqual(ALL);
  });

  it("keeps the operator's own values, from the command line or NODE_OPTIONS", () => {
    expect(heapFlags(['--heap-growing-percent=20'], undefined)).toEqual(['--semi-space-growth-factor=1']);
    expect(heapFlags([], '--max-old-space-size=512 --heap_growing_percent=80')).toEqual(['--semi-space-growth-factor=1']);
    expect(heapFlags(['--max-semi-space-size=4'], undefined)).toEqual([`--heap-growing-percent=${HEAP_GROWING_STEADY}`]);
    expect(heapFlags([], '--semi-space-growth-factor=2 --heap-growing-percent=100')).toEqual([]);
  });
});

describe('collectAfterStart', () => {
  it('runs a full GC now: what start read and dropped is gone, not left for V8 to size the heap by', async () => {
    const ref = (() => new WeakRef({ rows: Array.from({ length: 10_000 }, (_, i) => ({ i })) }))();
    // a WeakRef's target stays alive until the end of the job that made (or deref'd) it
    await new Promise((resolve) => setImmediate(resolve));
    expect(ref.deref()).toBeDefined();
    await new Promise((resolve) => setImmediate(resolve));
    collectAfterStart();
    expect(ref.deref()).toBeUndefined();
    // the main context does not get a global gc() out of it
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});

describe('governHeap', () => {
  const MiB = 1_048_576;
  it('grows the old generation by the steady share while the live heap holds, by the larger one while it grows', () => {
    expect(nextGrowing(undefined, { live: 60 * MiB, at: 0 })).toBe(HEAP_GROWING_STEADY);
    // holds (a rise under a quarter), GCs seconds apart
    expect(nextGrowing({ live: 60 * MiB, at: 0 }, { live: 66 * MiB, at: 5000 })).toBe(HEAP_GROWING_STEADY);
    expect(nextGrowing({ live: 60 * MiB, at: 0 }, { live: 40 * MiB, at: 5000 })).toBe(HEAP_GROWING_STEADY);
    // jumps by a quarter or more, or GCs come within a second
    expect(nextGrowing({ live: 60 * MiB, at: 0 }, { live: 75 * MiB, at: 5000 })).toBe(HEAP_GROWING_BURST);
    expect(nextGrowing({ live: 60 * MiB, at: 0 }, { live: 60 * MiB, at: 999 })).toBe(HEAP_GROWING_BURST);
    expect(HEAP_GROWING_STEADY).toBeLessThan(HEAP_GROWING_BURST);
  });

  /** A governor on fake GCs, clock and timer, keeping the young generation's flag; the flags it set. */
  function governed() {
    let gc: ((major: boolean) => void) | undefined;
    let tick: (() => void) | undefined;
    let live = 60 * MiB;
    let now = 0;
    let collected = 0;
    const set: string[] = [];
    const governor = governHeap(['--semi-space-growth-factor=1'], {
      onGc: (listener) => {
        gc = listener;
        return () => (gc = undefined);
      },
      every: (fn) => {
        tick = fn;
        return () => (tick = undefined);
      },
      live: () => live,
      now: () => now,
      setFlags: (f) => set.push(f),
      // a full GC: the observer hears of it soon after
      collect: () => {
        collected++;
        queueMicrotask(() => gc?.(true));
      },
    });
    const g = {
      set,
      major: (mib: number, at = now) => {
        live = mib * MiB;
        now = at;
        gc?.(true);
      },
      /** `n` scavenges over `ms` from now. */
      minors: (n: number, ms: number) => {
        const from = now;
        for (let i = 1; i <= n; i++) {
          now = from + (ms * i) / n;
          gc?.(false);
        }
      },
      /** The second ends at `at`. */
      tick: (at: number) => {
        now = at;
        tick?.();
      },
      growing: () => lastGrowing(set),
      collected: () => collected,
      /** What the heap holds from now on (a full GC's outcome). */
      holds: (mib: number) => (live = mib * MiB),
      settle: () => governor.settle(),
      stop: () => governor.stop(),
      stopped: () => gc === undefined && tick === undefined,
    };
    return g;
  }
  const S = HEAP_GROWING_STEADY;
  const G = HEAP_GROWING_BURST;

  it('steady at once; a burst from major GCs close together or a jump; steady again after calm seconds, with one full GC (not itself a burst)', async () => {
    const g = governed();
    expect(g.set).toEqual([`--heap-growing-percent=${S}`, '--semi-space-growth-factor=1']);
    g.major(60, 1000); // the first: nothing to compare with
    for (const at of [2000, 3000, 4000]) g.tick(at);
    expect(g.growing()).toBe(S);
    expect(g.collected()).toBe(0); // calm all along: nothing to collect
    g.major(61, 6000); // holds
    g.tick(7000);
    expect(g.growing()).toBe(S);
    g.major(80, 9000); // a flood: the live heap jumps
    expect(g.growing()).toBe(G);
    g.tick(10_000);
    g.major(85, 10_500); // and GCs come close together
    g.tick(11_000);
    g.tick(12_000);
    g.major(85, 12_500); // 2 s after the last, the same live heap: no sign
    expect(g.growing()).toBe(G);
    expect(g.collected()).toBe(0);
    g.tick(13_000); // third second without a sign
    expect(g.growing()).toBe(S);
    expect(g.collected()).toBe(1);
    await Promise.resolve(); // the full GC is seen: no burst, though it came soon after the last
    g.tick(14_000);
    expect(g.growing()).toBe(S);
    g.stop();
    expect(g.stopped()).toBe(true);
  });

  /** A governor whose GC entries carry their start (as perf_hooks' do), heard of when the test says. */
  function timed() {
    let gc: ((major: boolean, startedAt?: number) => void) | undefined;
    let tick: (() => void) | undefined;
    let clock = 1000;
    let collected = 0;
    /** The starts of the full GCs the governor asked for. */
    const ours: number[] = [];
    const set: string[] = [];
    const governor = governHeap(['--semi-space-growth-factor=1'], {
      onGc: (listener) => ((gc = listener), () => (gc = undefined)),
      clock: () => clock,
      every: (fn) => ((tick = fn), () => (tick = undefined)),
      // what 10k tags hold: the steady share is more than HEAP_ROOM_MIN, so the growth tells steady from burst
      live: () => 60 * MiB,
      now: () => clock,
      setFlags: (f) => set.push(f),
      // a full GC takes 25 ms of the clock
      collect: () => {
        collected++;
        ours.push(clock);
        clock += 25;
      },
    });
    return {
      governor,
      ours,
      /** The entry of a major GC that started at `at` arrives now. */
      heard: (at: number) => gc?.(true, at),
      tick: (at: number) => {
        clock = at;
        tick?.();
      },
      growing: () => lastGrowing(set),
      collected: () => collected,
    };
  }

  it("reads no burst into the start: a GC from before it and settle()'s two, heard of late and together", () => {
    const g = timed();
    g.governor.settle();
    expect(g.collected()).toBe(2);
    // the start's last natural GC (before the governor) and the two full GCs of settle(), all heard of now
    g.heard(900);
    for (const at of g.ours) g.heard(at + 1);
    for (const at of [2100, 3100, 4100, 5100]) g.tick(at);
    expect(g.growing()).toBe(HEAP_GROWING_STEADY);
    // no burst began, so none ends with a full GC of its own
    expect(g.collected()).toBe(2);
    g.governor.stop();
  });

  it('tells a natural major GC from one of its own by its start, whatever order they are heard of in', () => {
    const g = timed();
    g.governor.settle();
    for (const at of g.ours) g.heard(at + 1);
    // 5 s later a flood: a natural major GC at 6000, then another 400 ms later, heard of after both happened
    g.heard(6000);
    g.heard(6400);
    expect(g.growing()).toBe(HEAP_GROWING_BURST);
    g.governor.stop();
  });

  it('gives a small heap at least HEAP_ROOM_MIN of room, capped at doubling; a large one its share', () => {
    // 10k tags hold ~58 MiB: the steady share already gives more room
    expect(growingFor(S, 58 * MiB)).toBe(S);
    expect(growingFor(G, 58 * MiB)).toBe(G);
    // a fresh gateway (~27 MiB): the share would give 7 MiB
    const fresh = growingFor(S, 27 * MiB);
    expect((27 * MiB * fresh) / 100).toBeGreaterThanOrEqual(HEAP_ROOM_MIN);
    expect((27 * MiB * (fresh - 1)) / 100).toBeLessThan(HEAP_ROOM_MIN);
    expect(growingFor(S, 1 * MiB)).toBe(100);
    expect(growingFor(S, 0)).toBe(S);
  });

  it('settles once up: two full GCs, the second with the growth for what the first kept; neither is a burst', async () => {
    const g = governed();
    g.holds(20);
    g.settle();
    expect(g.collected()).toBe(2);
    expect(g.growing()).toBe(growingFor(S, 20 * MiB));
    expect(g.growing()).toBeGreaterThan(S);
    await Promise.resolve(); // both GCs are heard of, within a second: still no burst
    g.tick(1000);
    expect(g.growing()).toBe(growingFor(S, 20 * MiB));
    // the heap fills up (10k tags registered), a burst: its share, no more
    g.major(60, 10_000);
    expect(g.growing()).toBe(G);
    g.stop();
  });

  it('scavenges alone are no burst, however many', () => {
    const g = governed();
    g.minors(400, 1000);
    g.tick(1000);
    expect(g.growing()).toBe(S);
  });

  it("sets the flags again each second (a worker thread's start puts V8's flags back)", () => {
    const g = governed();
    const before = g.set.length;
    g.tick(1000);
    expect(g.set.slice(before)).toEqual([`--heap-growing-percent=${S}`, '--semi-space-growth-factor=1']);
  });

  /** A governor with a backlog to drain or not and a young generation of a given size; the young generation's flags it set. */
  function draining(keep: string[]) {
    let gc: ((major: boolean) => void) | undefined;
    let tick: (() => void) | undefined;
    let backlog = false;
    let young = 2 * MiB;
    const set: string[] = [];
    const governor = governHeap(keep, {
      onGc: (listener) => ((gc = listener), () => (gc = undefined)),
      every: (fn) => ((tick = fn), () => (tick = undefined)),
      live: () => 60 * MiB,
      now: () => 0,
      setFlags: (f) => set.push(f),
      collect: () => undefined,
      draining: () => backlog,
      young: () => young,
    });
    const lastYoung = () => set.filter((f) => f.startsWith('--semi-space-growth-factor=')).at(-1);
    return {
      set,
      lastYoung,
      backlog: (b: boolean) => (backlog = b),
      scavenge: (mib: number) => ((young = mib * MiB), gc?.(false)),
      tick: () => tick?.(),
      stop: () => governor.stop(),
    };
  }

  it('lets the young generation grow while a backlog drains, up to YOUNG_DRAINING, and keeps it otherwise', () => {
    const g = draining(['--semi-space-growth-factor=1']);
    g.tick();
    expect(g.lastYoung()).toBe('--semi-space-growth-factor=1');
    // a backlog: growing from the next second on, through scavenges below the size
    g.backlog(true);
    g.tick();
    expect(g.lastYoung()).toBe('--semi-space-growth-factor=2');
    g.scavenge(4);
    expect(g.lastYoung()).toBe('--semi-space-growth-factor=2');
    // at the size: kept at once (the scavenge that reached it), and at the next seconds while the backlog lasts
    g.scavenge(YOUNG_DRAINING / MiB);
    expect(g.lastYoung()).toBe('--semi-space-growth-factor=1');
    g.tick();
    expect(g.lastYoung()).toBe('--semi-space-growth-factor=1');
    // smaller again (V8 gave it back while idle) and no backlog: kept
    g.scavenge(2);
    g.backlog(false);
    g.tick();
    expect(g.lastYoung()).toBe('--semi-space-growth-factor=1');
    expect(g.set.filter((f) => f === '--semi-space-growth-factor=2')).toHaveLength(1);
    g.stop();
  });

  it('counts a draining probe that throws (the store closing under a last tick) as not draining, without throwing', () => {
    let tick: (() => void) | undefined;
    const set: string[] = [];
    const governor = governHeap(['--semi-space-growth-factor=1'], {
      onGc: () => () => undefined,
      every: (fn) => ((tick = fn), () => (tick = undefined)),
      live: () => 60 * MiB,
      setFlags: (f) => set.push(f),
      draining: () => {
        throw new Error('The database connection is not open');
      },
      young: () => 2 * MiB,
    });
    expect(() => tick?.()).not.toThrow();
    expect(set.filter((f) => f.startsWith('--semi-space-growth-factor=')).at(-1)).toBe('--semi-space-growth-factor=1');
    governor.stop();
  });

  it("leaves the young generation alone when its flag is the operator's (not in the flags it keeps)", () => {
    const g = draining([]);
    g.backlog(true);
    g.tick();
    g.scavenge(2);
    g.tick();
    expect(g.set.some((f) => f.startsWith('--semi-space-growth-factor'))).toBe(false);
    g.stop();
  });

  it('hears of major GCs from the process itself (perf_hooks) when given nothing', async () => {
    const set: number[] = [];
    let seen = 0;
    // 60 MiB held: the steady share gives more than HEAP_ROOM_MIN
    const governor = governHeap([], { setFlags: (f) => set.push(Number(f.split('=')[1])), live: () => (++seen, 60 * MiB), now: () => 0 });
    try {
      collectAfterStart();
      // the gc entries reach observers soon after the GC, not during it
      await vi.waitFor(() => expect(seen).toBeGreaterThan(0), { timeout: 5000 });
      expect(set[0]).toBe(HEAP_GROWING_STEADY);
      collectAfterStart();
      // two major GCs at the same instant: "within a second", a burst
      await vi.waitFor(() => expect(set).toContain(HEAP_GROWING_BURST), { timeout: 5000 });
    } finally {
      governor.stop();
    }
  });
});
