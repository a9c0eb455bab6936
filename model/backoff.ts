/**
 * The one backoff formula of the gateway: the delivery worker (forwarder,
 * notifier, its circuit), the connectors' reconnects and the runtime's retry of
 * held commands all wait `backoff(attempt, ...)`.
 *
 *   ceiling(attempt) = min(max, base · 2^(attempt-1))      attempt 1 = after the first failure
 *   full jitter:  [0, ceiling)            spreads a crowd of retries the most (delivery)
 *   equal jitter: [ceiling/2, ceiling]    never retries at once (reconnects)
 *   delay = max(min, floor(jittered))     whole milliseconds
 *
 * `random` is injected (a value in [0, 1)): tests pin it, replay seeds it.
 */
export interface BackoffOptions {
  /** The first ceiling (attempt 1), ms. */
  base: number;
  /** The largest ceiling, ms. */
  max: number;
  /** A floor under the jittered delay, ms (default 0). */
  min?: number;
  /** `full` (default): anywhere below the ceiling; `equal`: half fixed, half random. */
  jitter?: 'full' | 'equal';
}

/** Doublings beyond this are past any `max` (and keep 2^n finite). */
const MAX_DOUBLINGS = 40;

/** The ceiling of attempt `attempt` (1-based; 0 and below count as 1). */
export function backoffCeiling(attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), MAX_DOUBLINGS));
}

/** How long to wait before attempt `attempt` + 1, after `attempt` failures in a row. */
export function backoff(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, opts.base, opts.max);
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = opts.jitter === 'equal' ? ceiling / 2 + (ceiling / 2) * r : ceiling * r;
  return Math.max(opts.min ?? 0, Math.floor(jittered));
}
