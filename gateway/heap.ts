import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
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
 * (~58 MiB live) the old generation then tops out near 73 MiB instead of 84 (`npm run bench:ingest --
 * --rss`, with the 1 MiB young generation below: max 158 -> 143-147 MiB, 13 -> 22-23 major GCs in 120 s,
 * 4 -> 5 % of a core). Not while the live heap grows (an alarm flood's new tags and raises): then every
 * few MiB would cost a major GC (20k alarm raises over HTTP: -15 % throughput at 30 % throughout).
 */
export const HEAP_GROWING_STEADY = 30;

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
 * For `andon start` once it is up, when the operator gave no `--heap-growing-percent`: after each major
 * GC, sets the growth V8 uses for the next one (nextGrowing), with the other flags of `keep` (tuneHeap's).
 * A worker thread's start puts V8's flags back to the command line's, so they are set again each second
 * too. Returns the function that stops it. `deps` are for tests: where the GCs come from, the live heap,
 * the clock, the flag setter and the timer.
 *
 * The young generation stays at the 1 MiB bin/andon.js holds it to, also in a burst: letting it grow
 * there (when scavenges came more than 30 times a second) kept it grown after the gateway's own start
 * (bench:ingest --rss: max 147 -> 156 MiB), since V8 shrinks it only when the gateway idles, and the
 * outbox drain it was for did not measurably gain (0.817x and 0.837x of the bare client, noise 0.78-0.88).
 */
export function governHeap(
  keep: readonly string[] = [],
  deps: {
    onGc?: (listener: (major: boolean) => void) => () => void;
    live?: () => number;
    now?: () => number;
    setFlags?: (flags: string) => void;
    every?: (fn: () => void, ms: number) => () => void;
  } = {},
): () => void {
  const live = deps.live ?? (() => getHeapStatistics().used_heap_size);
  const now = deps.now ?? (() => Date.now());
  const setFlags = deps.setFlags ?? setFlagsFromString;
  const every =
    deps.every ??
    ((fn: () => void, ms: number) => {
      const t = setInterval(fn, ms).unref();
      return () => clearInterval(t);
    });
  let last: { live: number; at: number } | undefined;
  let growing = HEAP_GROWING_STEADY;
  const apply = () => {
    setFlags(`--heap-growing-percent=${growing}`);
    for (const f of keep) setFlags(f);
  };
  apply();
  const stopGc = (deps.onGc ?? gcs)((major) => {
    if (!major) return;
    const seen = { live: live(), at: now() };
    growing = nextGrowing(last, seen);
    last = seen;
    apply();
  });
  const stopTick = every(apply, 1000);
  return () => {
    stopGc();
    stopTick();
  };
}

/** Calls `listener` after each GC, major or not (perf_hooks' gc entries, delivered soon after); returns the unsubscribe. */
function gcs(listener: (major: boolean) => void): () => void {
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) listener((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
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
