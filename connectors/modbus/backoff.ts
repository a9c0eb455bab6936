import { backoff } from '../../model/backoff.ts';

/** Upper bound of the pause between reconnect attempts. */
export const BACKOFF_CAP_MS = 30_000;

/**
 * Pause before reconnect attempt `failures` (1 = after the first failure):
 * exponential from `base`, capped, with "equal jitter" (half fixed, half
 * random) so sources that failed together do not retry in lockstep, yet never
 * retry at once.
 *
 *   base 1 s: ~0.5-1 s, 1-2 s, 2-4 s, 4-8 s, 8-16 s, 15-30 s, 15-30 s, ...
 *
 * The gateway's one formula (gateway/delivery/backoff.ts) with equal jitter.
 */
export function backoffDelay(failures: number, base: number, cap: number = BACKOFF_CAP_MS, random: () => number = Math.random): number {
  return backoff(failures, { base, max: cap, jitter: 'equal' }, random);
}

/** The first pause follows the poll rate (a fast poller notices a returning device fast), within 100 ms..1 s. */
export const backoffBase = (pollInterval: number): number => Math.min(1_000, Math.max(100, pollInterval));
