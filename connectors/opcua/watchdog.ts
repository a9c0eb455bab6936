import { backoff } from '../../model/backoff.ts';
import type { Classified } from './classify.ts';
import type { Generation } from './generation.ts';

/** Keep-alive every 10 publishing intervals; the watchdog allows three of them. */
export const KEEPALIVE_COUNT = 10;
const SILENT_KEEPALIVES = 3;
/** A reconnection that has not completed by then is abandoned for a fresh client. */
export const RECONNECT_DEADLINE_MS = 60_000;

/**
 * Notices what node-opcua does not: a subscription that sends neither data
 * nor keep-alive for three keep-alive intervals (deleted on the server, a
 * half-open TCP link, a repair that silently failed), and a reconnection
 * that never completes. Times are performance.now() (monotonic).
 */
export class Watchdog {
  private lastLife = 0;
  private keepAliveMs: number;

  constructor(publishingIntervalMs: number) {
    this.keepAliveMs = publishingIntervalMs * KEEPALIVE_COUNT;
  }

  /** How often to look: a quarter keep-alive, between 50 ms and 1 s. */
  get tickMs(): number {
    return Math.min(1000, Math.max(50, this.keepAliveMs / 4));
  }

  /** A new subscription with its revised publishing interval and keep-alive count. */
  arm(publishingIntervalMs: number, maxKeepAliveCount: number): void {
    this.keepAliveMs = publishingIntervalMs * maxKeepAliveCount;
    this.touch();
  }

  /** Data, events or a keep-alive arrived. */
  touch(): void {
    this.lastLife = performance.now();
  }

  /** Why the generation must be rebuilt now, or null. */
  verdict(gen: Generation): Classified | null {
    if (gen.disposed || !gen.established) return null;
    const now = performance.now();
    if (gen.reconnectingSince !== null) {
      if (now - gen.reconnectingSince <= RECONNECT_DEADLINE_MS) return null;
      return { code: 'ANDON_OPCUA_SESSION_FAILED', heals: true, message: `reconnection did not complete within ${RECONNECT_DEADLINE_MS / 1000} s` };
    }
    if (gen.repairing || !gen.sub) return null;
    const silent = now - this.lastLife;
    if (silent <= SILENT_KEEPALIVES * this.keepAliveMs) return null;
    return {
      code: 'ANDON_OPCUA_SUBSCRIPTION_SILENT',
      heals: true,
      message: `subscription silent for ${Math.round(silent)} ms (keep-alive every ${Math.round(this.keepAliveMs)} ms)`,
    };
  }
}

/**
 * The pause before rebuilding the connection after `failures` failed attempts (0: it was up until now):
 * the gateway's one formula (gateway/delivery/backoff.ts) with equal jitter, ceilings 0.5 s, 1 s, 2 s, ... up to `max`.
 */
export function backoffMs(failures: number, max: number, random: () => number = Math.random): number {
  return backoff(failures + 1, { base: 500, max, jitter: 'equal' }, random);
}
