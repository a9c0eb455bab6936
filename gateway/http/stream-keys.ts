import { randomBytes } from 'node:crypto';
import type { Who } from './auth.ts';

/** A stream key as handed out: the key and when it stops working (epoch ms). */
export interface StreamKey {
  key: string;
  expiresAt: number;
}

/**
 * Short-lived, single-use keys for GET /api/v1/events. EventSource cannot send
 * an Authorization header, and a token in the URL stays in every proxy's
 * access log; a key there is worthless once used or after `ttlMs`. A key
 * carries its token's holder (or null, for an anonymous reader). At most
 * `max` keys wait at once: a new one pushes out the oldest, so the map is
 * bounded whoever asks.
 */
export function createStreamKeys({ now, ttlMs = 60_000, max = 1_000 }: { now: () => number; ttlMs?: number; max?: number }) {
  // Insertion order is expiry order (one ttl for all), so the oldest is first.
  const keys = new Map<string, { who: Who | null; expiresAt: number }>();
  const dropExpired = (at: number) => {
    for (const [key, k] of keys) {
      if (k.expiresAt > at) break;
      keys.delete(key);
    }
  };
  return {
    issue(who: Who | null): StreamKey {
      const at = now();
      dropExpired(at);
      while (keys.size >= max) keys.delete(keys.keys().next().value as string);
      const key = randomBytes(24).toString('base64url');
      const expiresAt = at + ttlMs;
      keys.set(key, { who, expiresAt });
      return { key, expiresAt };
    },
    /** The holder the key was issued for, once; undefined for a key that is unknown, used or expired. */
    redeem(key: string): { who: Who | null } | undefined {
      const k = keys.get(key);
      if (!k) return undefined;
      keys.delete(key);
      return k.expiresAt > now() ? { who: k.who } : undefined;
    },
    get size() {
      return keys.size;
    },
  };
}

export type StreamKeys = ReturnType<typeof createStreamKeys>;
