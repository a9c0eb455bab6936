import { backoff } from '../../model/backoff.ts';

/**
 * What a delivery worker knows about one receiver as a whole (central for the
 * forwarder), in memory; the per-item backoff is on disk. A 429 or a
 * Retry-After holds every request until then. After `threshold` failures in a
 * row without any answer from the receiver, the circuit opens: one probe at a
 * time, spaced by its own backoff, until the receiver answers again (half
 * open); so a long outage costs a probe now and then, not one failing request
 * per item.
 */
export class Circuit {
  private holdUntil = 0;
  /** The part of the hold the receiver asked for (429 / Retry-After): a manual retry does not cut it short. */
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

  /** A person asked to try now (an un-park): the open circuit probes at once, unless the receiver itself asked to wait. */
  probeNow(now: number): void {
    if (this.open) this.holdUntil = Math.max(this.askedUntil, Math.min(this.holdUntil, now));
  }

  /** The receiver answered (ok, conflict, refused): it is up. */
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
    this.holdUntil = Math.max(this.holdUntil, now + backoff(this.probes, { base, max, min: base / 2 }, random));
  }
}
