import { describe, expect, it } from 'vitest';
import { backoff, backoffCeiling } from './backoff.ts';
import { seeded } from '../gateway/seeded.ts';

describe('backoff', () => {
  it('grows exponentially from base up to max', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffCeiling(n, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffCeiling(0, 1_000, 30_000)).toBe(1_000);
    expect(backoffCeiling(1e9, 1_000, 30_000)).toBe(30_000);
  });

  it('full jitter stays in [0, ceiling)', () => {
    const opts = { base: 1_000, max: 300_000 };
    expect([1, 2, 3].map((n) => backoff(n, opts, () => 0))).toEqual([0, 0, 0]);
    expect([1, 2, 3].map((n) => backoff(n, opts, () => 0.5))).toEqual([500, 1_000, 2_000]);
    expect(backoff(3, opts, () => 0.999_999)).toBe(3_999);
    const random = seeded(42);
    for (let attempt = 1; attempt <= 30; attempt++) {
      const d = backoff(attempt, opts, random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(backoffCeiling(attempt, 1_000, 300_000));
    }
  });

  it('equal jitter stays in [ceiling/2, ceiling]', () => {
    const opts = { base: 1_000, max: 30_000, jitter: 'equal' as const };
    expect([1, 2, 3, 4].map((n) => backoff(n, opts, () => 0))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((n) => backoff(n, opts, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000]);
    const random = seeded(7);
    for (let attempt = 1; attempt <= 30; attempt++) {
      const d = backoff(attempt, opts, random);
      const c = backoffCeiling(attempt, 1_000, 30_000);
      expect(d).toBeGreaterThanOrEqual(c / 2);
      expect(d).toBeLessThanOrEqual(c);
    }
  });

  it('min is a floor under the jittered delay', () => {
    expect(backoff(1, { base: 1_000, max: 60_000, min: 500 }, () => 0)).toBe(500);
    expect(backoff(4, { base: 1_000, max: 60_000, min: 500 }, () => 0.5)).toBe(4_000);
  });

  it('a random source outside [0, 1] cannot leave the bounds', () => {
    expect(backoff(2, { base: 1_000, max: 60_000 }, () => 7)).toBe(2_000);
    expect(backoff(2, { base: 1_000, max: 60_000, jitter: 'equal' }, () => -1)).toBe(1_000);
  });
});

describe('the one formula at every call site', () => {
  it('OPC UA rebuilds use it with equal jitter from 0.5 s', async () => {
    const { backoffMs } = await import('../connectors/opcua/watchdog.ts');
    expect([0, 1, 2, 3].map((f) => backoffMs(f, 10_000, () => 1))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([0, 1, 2, 3].map((f) => backoffMs(f, 10_000, () => 0))).toEqual([250, 500, 1_000, 2_000]);
    expect(backoffMs(50, 60_000, () => 1)).toBe(60_000);
  });

  it('Modbus reconnects use it with equal jitter', async () => {
    const { backoffDelay } = await import('../connectors/modbus/backoff.ts');
    for (const r of [0, 0.3, 0.999]) for (let n = 1; n < 12; n++) expect(backoffDelay(n, 250, 30_000, () => r)).toBe(backoff(n, { base: 250, max: 30_000, jitter: 'equal' }, () => r));
  });
});
