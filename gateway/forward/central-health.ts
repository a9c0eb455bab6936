/** Exponential backoff with full jitter: a delay in [0, min(max, base·2^(attempt-1))). */
export const fullJitter = (attempt: number, base: number, max: number, random: () => number): number =>
  Math.floor(random() * Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), 40)));

/**
 * What the forwarder knows about central as a whole (in memory; the per-ticket
 * backoff is on disk). A 429 or a Retry-After holds every request until then.
 * After `threshold` failures in a row without any answer from central, the
 * circuit opens: one probe at a time, spaced by its own backoff, until central
 * answers again; so a long outage costs a probe now and then, not one failing
 * request per ticket.
 */
export class CentralHealth {
  private holdUntil = 0;
  /** The part of the hold central asked for (429 / Retry-After): a manual retry does not cut it short. */
  private askedUntil = 0;
  private streak = 0;
  private probes = 0;
  open = false;

  constructor(
    private readonly opts: { base: number; max: number; threshold: number; random: () => number },
    private readonly onChange: (open: boolean) => void = () => undefined,
  ) {}

  /** Whether a new request may start now, given how many are in flight. */
  allows(now: number, inFlight: number): boolean {
    if (now < this.holdUntil) return false;
    return !this.open || inFlight === 0;
  }

  /** When requests may start again; 0 when they may now. */
  heldUntil(now: number): number {
    return now < this.holdUntil ? this.holdUntil : 0;
  }

  /** A person asked to try now (an un-park): the open circuit probes at once, unless central itself asked to wait. */
  probeNow(now: number): void {
    if (this.open) this.holdUntil = Math.max(this.askedUntil, Math.min(this.holdUntil, now));
  }

  /** Central answered (ok, conflict, poison): it is up. */
  answered(): void {
    this.streak = 0;
    this.probes = 0;
    if (this.open) {
      this.open = false;
      this.onChange(false);
    }
  }

  /** A retryable failure; `retryAfterMs` (429, 503 with Retry-After) holds every request. */
  failed(now: number, retryAfterMs: number | undefined): void {
    if (retryAfterMs !== undefined) {
      this.askedUntil = Math.max(this.askedUntil, now + retryAfterMs);
      this.holdUntil = Math.max(this.holdUntil, this.askedUntil);
      return;
    }
    this.streak++;
    if (!this.open && this.streak < this.opts.threshold) return;
    if (!this.open) {
      this.open = true;
      this.onChange(true);
    }
    this.probes++;
    const { base, max, random } = this.opts;
    this.holdUntil = Math.max(this.holdUntil, now + Math.max(base / 2, fullJitter(this.probes, base, max, random)));
  }
}
