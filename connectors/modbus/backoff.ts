/** Upper bound of the pause between reconnect attempts. */
export const BACKOFF_CAP_MS = 30_000;

/**
 * Pause before reconnect attempt `failures` (1 = after the first failure):
 * exponential from `base`, capped, with "equal jitter" (half fixed, half
 * random) so sources that failed together do not retry in lockstep, yet never
 * retry at once.
 *
 *   base 1 s: ~0.5-1 s, 1-2 s, 2-4 s, 4-8 s, 8-16 s, 15-30 s, 15-30 s, ...
 */
export function backoffDelay(failures: number, base: number, cap: number = BACKOFF_CAP_MS, random: () => number = Math.random): number {
  const ceiling = Math.min(cap, base * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return ceiling / 2 + (ceiling / 2) * random();
}

/** The first pause follows the poll rate (a fast poller notices a returning device fast), within 100 ms..1 s. */
export const backoffBase = (pollInterval: number): number => Math.min(1_000, Math.max(100, pollInterval));
