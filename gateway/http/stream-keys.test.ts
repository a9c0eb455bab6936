import { describe, expect, it } from 'vitest';
import { createStreamKeys } from './stream-keys.ts';

describe('stream keys', () => {
  const wang = { name: 'wang', role: 'operator' } as const;

  it('a key names its token holder once, and only before it expires', () => {
    let now = 1_000;
    const keys = createStreamKeys({ now: () => now, ttlMs: 60_000 });
    const a = keys.issue(wang);
    expect(a.expiresAt).toBe(61_000);
    expect(keys.redeem(a.key)).toEqual({ who: wang });
    expect(keys.redeem(a.key)).toBeUndefined();
    const b = keys.issue(null);
    now = 61_000;
    expect(keys.redeem(b.key)).toBeUndefined();
    expect(keys.redeem('never-issued')).toBeUndefined();
  });

  it('stays bounded however many are asked for: the oldest unused key goes first', () => {
    const keys = createStreamKeys({ now: () => 0, max: 100 });
    const first = keys.issue(wang);
    const rest = Array.from({ length: 10_000 }, () => keys.issue(wang));
    expect(keys.size).toBe(100);
    expect(keys.redeem(first.key)).toBeUndefined();
    expect(keys.redeem(rest.at(-1)!.key)).toEqual({ who: wang });
  });

  it('expired keys are dropped as new ones are issued', () => {
    let now = 0;
    const keys = createStreamKeys({ now: () => now, ttlMs: 10 });
    for (let i = 0; i < 50; i++) keys.issue(wang);
    now = 11;
    keys.issue(wang);
    expect(keys.size).toBe(1);
  });
});
