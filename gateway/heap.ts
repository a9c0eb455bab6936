import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent, for
 * `andon start` in a burst (governHeap: major GCs close together, the live heap jumping). V8's own
 * factor goes up to 4× when GC looks cheap, so a gateway with ~60 MiB live (10k tags) saw-toothed
 * up to 250 MiB of heap, most of it garbage, and the RSS followed (`npm run bench:ingest -- --rss`:
 * max 307 MiB; with 50 %: 194 MiB, at ~1 % more of a core). The limit still grows with the live
 * heap, so a gateway that really holds more is not cut off.
 */
export const HEAP_GROWING_BURST = 50;

/**
 * The growth while the live heap holds steady, the gateway's usual state (governHeap). At 10k tags
 * (~58 MiB live) the old generation then tops out near 72 MiB instead of 84 (`npm run bench:ingest --
 * --rss`, with the 1 MiB young generation below: max 158 -> 143-144 MiB, VmHWM 143; 13 -> 28-29 major
 * GCs in 120 s, 4 -> 6 % of a core). With 30 %: max 143-150, VmHWM 146-151, no margin. Not while the
 * live heap grows (an alarm flood's new tags and raises): then every few MiB would cost a major GC (20k alarm raises over HTTP: -15 % throughput at 30 % throughout).
 */
export const HEAP_GROWING_STEADY = 25;

/**
 * The V8 flags `andon start` sets for itself, at run time (both are read at every GC): none that
 * the operator already gave, on the command line (`node --heap-growing-percent=… bin/andon.js`) or
 * in `NODE_OPTIONS`.
 * - `--heap-growing-percent`: HEAP_GROWING_STEADY from the start (the config's parse then leaves a smaller
 *   heap behind); governHeap takes it from there once the gateway is up;
 * - `--semi-space-growth-factor=1`: the young generation keeps the size it has when this is set
 *   instead of doubling under a steady stream of signals. `bin/andon.js` sets it for `andon start`
 *   before the gateway's modules load, so it stays at V8's first 1 MiB (the size
 *   `--max-semi-space-size=1` gives, a flag that only works on the command line): at 10k tags that is
 *   14 MiB of resident memory less than the 16 MiB it had grown to by then (bench:ingest --rss, with 50 %
 *   growth: max 170 -> 158 MiB). An alarm flood over HTTP pays little for it since a flood member no longer
 *   copies its ticket (TicketEngine.joinFlood): 20k raises 48.9k / 53.4k against 49.0k / 52.9k signals/s.
 */
export function heapFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  const has = (re: RegExp) => given.some((a) => re.test(a));
  const flags: string[] = [];
  if (!has(/^--heap[-_]growing[-_]percent\b/)) flags.push(`--heap-growing-percent=${HEAP_GROWING_STEADY}`);
  if (!has(/^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/)) flags.push('--semi-space-growth-factor=1');
  return flags;
}

/**
 * The old generation's growth for the next major GC, from the last two (live heap in bytes, time in ms):
 * HEAP_GROWING_BURST while major GCs come within a second of each other or the live heap jumps (a
 * quarter or more since the one before), HEAP_GROWING_STEADY otherwise. What the heap holds right after
 * a GC moves by a few percent from one to the next at 10k tags (what was allocated since), so a small
 * rise is no sign of growth: each switch to the larger share for a cycle showed as a peak of the RSS.
 */
export function nextGrowing(before: { live: number; at: number } | undefined, now: { live: number; at: number }): number {
  if (!before) return HEAP_GROWING_STEADY;
  const grows = now.at - before.at < 1000 || now.live >= before.live * 1.25;
  return grows ? HEAP_GROWING_BURST : HEAP_GROWING_STEADY;
}

/**
 * The least room the old generation gets past what the last major GC kept, whatever the share says:
 * a percentage of a small heap is little room, and a major GC every few MiB. A fresh gateway holds
 * ~27 MiB, so 25 % let it grow 7 MiB, and an alarm flood of 5,000 raises (its new tags, the flood
 * ticket's members) took a major GC in the middle, with the scavenges during its marking 5-10 times
 * their usual pause. 14 MiB is below what the steady share gives at 10k tags (~58 MiB live: 14.5), so
 * the 10k-tag RSS does not move.
 */
export const HEAP_ROOM_MIN = 14 * 1_048_576;

/** The largest growth HEAP_ROOM_MIN may ask for (a near-empty heap: 2x, not 10x). */
const HEAP_GROWING_MAX = 100;

/** The growth in percent for `share` when the last major GC kept `live` bytes: at least HEAP_ROOM_MIN of room. */
export function growingFor(share: number, live: number): number {
  if (!(live > 0)) return share;
  return Math.max(share, Math.min(HEAP_GROWING_MAX, Math.ceil((100 * HEAP_ROOM_MIN) / live)));
}

/**
 * The young generation's size (both semi-spaces) while the gateway drains a forwarding backlog: with
 * the 1 MiB semi-spaces bin/andon.js keeps, a 20k-ticket drain took ~1,280 scavenges, each delivery's
 * request, answer and settlement being garbage a moment later. `npm run bench:drain --runs 1`, 3 pairs
 * interleaved with the commit before: 415-434 scavenges (0.20-0.26 s) against 1,275-1,279 (0.33-0.39 s),
 * 3,657 / 3,799 / 3,813 against 3,662 / 3,597 / 4,021 PUTs/s, 0.912 / 0.787 / 0.979x the bare client
 * against 0.783 / 0.788 / 0.837x, RSS unchanged (188-206 MiB). It grows only while there is a backlog
 * (DRAIN_BACKLOG, in cli.ts), within a second, so the 10k-tag RSS does not move (bench:ingest forwards
 * nothing); V8 gives it back when the gateway idles.
 */
export const YOUNG_DRAINING = 8 * 1_048_576;

/** The flag that keeps the young generation at its size (tuneHeap's), and the one that lets it grow. */
const YOUNG_KEPT = '--semi-space-growth-factor=1';
const YOUNG_GROWS = '--semi-space-growth-factor=2';

/** Seconds without a sign of a burst before the steady growth comes back. */
const CALM_SECONDS = 3;

/**
 * For `andon start` once it is up, when the operator gave no `--heap-growing-percent`: the old
 * generation's growth, HEAP_GROWING_BURST in a burst and HEAP_GROWING_STEADY otherwise, with the other
 * flags of `keep` (tuneHeap's). A burst begins with a major GC that nextGrowing calls one; it ends after
 * CALM_SECONDS without another, with one full GC (`collect`), since V8 only applies a growth when a
 * major GC sets the next limit: without it the heap would keep the burst's room until it filled. The flags are set again every
 * second: a worker thread's start puts V8's flags back to the command line's. Returns its handle
 * (Governor: settle once up, stop). `deps` are for tests: where the GCs come from, the live heap, the clock, the flag setter,
 * the timer and the full GC.
 *
 * Why a burst gets the larger growth: an alarm flood on a fresh gateway (`bench:flood`, 5,000 raises)
 * ran at 22.7-27.7k signals/s and 46-56 us of CPU a signal with 30 % throughout, 31.1-32.7k and 36-38 us
 * with 50 %. Seeing a burst sooner, from the scavenges' pace (40 a second), did not win that back
 * (24.4-31.5k against 26.3-32.2k without the heap settings, 4 interleaved pairs): the limit the last
 * major GC set at 30 % holds until the next one. Nor did starting in a burst (the gateway's own start);
 * both cost the 10k-tag RSS its margin (VmHWM 151 MiB), so neither is kept. The young generation
 * stays at the 1 MiB bin/andon.js holds it to, also in a burst: letting it grow there kept it grown after the gateway's own start (bench:ingest --rss: max 147 -> 156 MiB),
 * since V8 shrinks it only when the gateway idles, and a flood ran as fast with 2 or 4 MiB. It grows
 * while a forwarding backlog drains (`draining`), to YOUNG_DRAINING and no further.
 */
export function governHeap(
  keep: readonly string[] = [],
  deps: {
    /** GCs as they are heard of: major or not, and when the GC started (performance.now()'s clock) where known. */
    onGc?: (listener: (major: boolean, startedAt?: number) => void) => () => void;
    /** performance.now(), the clock of a GC's start (onGc). */
    clock?: () => number;
    live?: () => number;
    now?: () => number;
    setFlags?: (flags: string) => void;
    every?: (fn: () => void, ms: number) => () => void;
    collect?: () => void;
    /** Whether a forwarding backlog is being drained (checked every second); the young generation grows to YOUNG_DRAINING meanwhile. */
    draining?: () => boolean;
    /** The young generation's size in bytes. */
    young?: () => number;
  } = {},
): Governor {
  const live = deps.live ?? (() => getHeapStatistics().used_heap_size);
  const now = deps.now ?? (() => Date.now());
  const setFlags = deps.setFlags ?? setFlagsFromString;
  const collect = deps.collect ?? collectAfterStart;
  const every =
    deps.every ??
    ((fn: () => void, ms: number) => {
      const t = setInterval(fn, ms).unref();
      return () => clearInterval(t);
    });
  let last: { live: number; at: number } | undefined;
  // what the last major GC kept (before the first one: the heap now)
  let held = live();
  let burst = false;
  let calm = 0;
  let signs = false;
  // Full GCs of our own are no sign of a burst. GC entries come late (perf_hooks): one that started before
  // this governor, or inside a full GC of ours, is told apart by its start. Counting them alone took the
  // start's last natural GC for one of settle()'s two, and the second of those for a natural one 1 ms
  // after it: a burst at every start, which ended 3 s later with a full GC of ~25 ms in the middle of
  // whatever the gateway was doing.
  const clock = deps.clock ?? (() => performance.now());
  const createdAt = clock();
  /** The spans (clock) of our full GCs not yet heard of, oldest first. */
  const spans: { from: number; to: number }[] = [];
  // a probe that fails (the store closing under a last tick, a disk error) says "not draining": the governor never throws from a timer
  const draining = () => {
    try {
      return deps.draining?.() ?? false;
    } catch {
      return false;
    }
  };
  const young = deps.young ?? youngSize;
  // the young generation is ours to size only while its flag is ours (the operator gave none of theirs)
  const sizesYoung = keep.includes(YOUNG_KEPT);
  let growYoung = false;
  const apply = () => {
    setFlags(`--heap-growing-percent=${growingFor(burst ? HEAP_GROWING_BURST : HEAP_GROWING_STEADY, held)}`);
    for (const f of keep) setFlags(f);
    if (growYoung) setFlags(YOUNG_GROWS);
  };
  /** A full GC of ours; what it kept is known at once (the observer hears of it later). */
  const full = () => {
    const from = clock();
    collect();
    spans.push({ from, to: clock() });
    held = live();
    apply();
  };
  const begin = () => {
    signs = true;
    calm = 0;
    if (burst) return;
    burst = true;
    apply();
  };
  apply();
  /** Whether a major GC that started at `startedAt` (unknown: the oldest of ours not heard of, if any) was one of ours. */
  const oneOfOurs = (startedAt: number | undefined): boolean => {
    const i = startedAt === undefined ? (spans.length > 0 ? 0 : -1) : spans.findIndex((x) => startedAt >= x.from && startedAt <= x.to);
    if (i !== -1) spans.splice(i, 1);
    // a span that ended before this GC began is never heard of (a runtime where collect() could not run a GC): dropped
    if (startedAt !== undefined) while (spans.length > 0 && (spans[0] as { to: number }).to < startedAt) spans.shift();
    return i !== -1;
  };
  const stopGc = (deps.onGc ?? gcs)((major, startedAt) => {
    // V8 doubles the young generation at a scavenge: stop at the size wanted, not at V8's largest (16 MiB semi-spaces)
    if (growYoung && young() >= YOUNG_DRAINING) {
      growYoung = false;
      setFlags(YOUNG_KEPT);
    }
    if (!major) return;
    // a GC of the gateway's start, before this governor: it says nothing of what comes now
    if (startedAt !== undefined && startedAt < createdAt) return;
    const seen = { live: live(), at: now() };
    // one of ours: what it kept is `held` already
    if (!oneOfOurs(startedAt)) {
      if (nextGrowing(last, seen) === HEAP_GROWING_BURST) begin();
      held = seen.live;
      apply();
    }
    last = seen;
  });
  const stopTick = every(() => {
    if (burst && !signs && ++calm >= CALM_SECONDS) {
      burst = false;
      apply();
      // the next limit from what the heap holds now, at the steady growth
      full();
    }
    signs = false;
    // the young generation grows while a backlog drains, up to YOUNG_DRAINING
    growYoung = sizesYoung && young() < YOUNG_DRAINING && draining();
    apply();
  }, 1000);
  return {
    settle() {
      // what the gateway holds once up: its start's reads are garbage by now
      full();
      // that GC set V8's next limit with the growth for the heap before it; this one sets it for what is held
      full();
    },
    stop() {
      stopGc();
      stopTick();
    },
  };
}

/** governHeap's handle. */
export interface Governor {
  /**
   * Once the gateway is up: two full GCs, the first to learn what the gateway holds, the second so that
   * V8's next limit follows the growth for it (HEAP_ROOM_MIN; V8 reads the flag at the GC). ~10-15 ms
   * each, at start only (a fresh gateway: 39 -> 27 MiB, then the limit at 41 instead of 37 MiB, and no
   * major GC in the middle of the flood bench's 5,000 raises).
   */
  settle(): void;
  stop(): void;
}

/** V8's young generation (new space), in bytes. */
function youngSize(): number {
  return getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.space_size ?? 0;
}

/** Calls `listener` after each GC, major or not, with its start (perf_hooks' gc entries, delivered soon after); returns the unsubscribe. */
function gcs(listener: (major: boolean, startedAt?: number) => void): () => void {
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      listener((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR, e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** Applies `heapFlags` to this process; returns what it set. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): string[] {
  const flags = heapFlags(execArgv, nodeOptions);
  for (const f of flags) setFlagsFromString(f);
  return flags;
}

/**
 * One full, compacting GC, once `andon start` is up. Starting reads every live ticket, the recent raises
 * and the KPIs from the store (20k tickets: ~60 MiB of parsed rows that are garbage a moment later),
 * and V8 sizes the next GC's limit from that peak: the gateway then ran at 225-280 MiB of RSS with
 * ~75 MiB live (`npm run bench:drain`). Collecting it once, before the first signal, sets the limit
 * from what the gateway really holds. A pause of tens of milliseconds, at start only.
 */
export function collectAfterStart(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (() => void) | undefined;
    gc?.();
  } catch {
    // a runtime without the flag: the GC comes when V8 decides
  }
}
