import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent, for
 * `andon start`. V8's own factor goes up to 4× when GC looks cheap, so a gateway with ~60 MiB
 * live (10k tags) saw-toothed up to 250 MiB of heap, most of it garbage, and the RSS followed
 * (`npm run bench:ingest -- --rss`: max 307 MiB; with 50 %: 194 MiB, at ~1 % more of a core).
 * The limit still grows with the live heap, so a gateway that really holds more is not cut off.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * The V8 flags `andon start` sets for itself, at run time (both are read at every GC): none that
 * the operator already gave, on the command line (`node --heap-growing-percent=… bin/andon.js`) or
 * in `NODE_OPTIONS`.
 * - `--heap-growing-percent` (HEAP_GROWING_PERCENT above);
 * - `--semi-space-growth-factor=1`: the young generation keeps the size it has once the modules
 *   are loaded (16 MiB here) instead of doubling to 32 MiB under a steady stream of signals,
 *   which is resident memory that buys nothing at 10k tags (bench:ingest --rss: max 194 -> 180 MiB).
 *   `--max-semi-space-size`, which would say it directly, only works on the command line.
 */
export function heapFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  const has = (re: RegExp) => given.some((a) => re.test(a));
  const flags: string[] = [];
  if (!has(/^--heap[-_]growing[-_]percent\b/)) flags.push(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  if (!has(/^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/)) flags.push('--semi-space-growth-factor=1');
  return flags;
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
