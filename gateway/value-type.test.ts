import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { Signal } from '../rules/types.ts';
import { valueTypeGuard } from './value-type.ts';

const config = parseConfig(`
gateway: { id: test }
rules:
  - { id: hot, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P2 }
  - { id: run, when: { tag: "**/state", equals: "FAULT" }, fault: fault-state, priority: P2 }
  - { id: code, when: { tag: "**/state", equals: 3 }, fault: fault-code, priority: P2 }
  - { id: alarm, when: { tag: "**/alarm", equals: true }, fault: alarm-stop, priority: P1 }
  - { id: frozen, when: { tag: "**/level", unchangedFor: 1h }, fault: stuck, priority: P3 }
`);

const sig = (tag: string, value: Signal['value'], quality: Signal['quality'] = 'good'): Signal => ({ source: 'mes', tag, value, quality, ts: 0 });

function guard() {
  let now = 1_000_000;
  const counted: string[] = [];
  const warnings: Record<string, unknown>[] = [];
  const check = valueTypeGuard({ rules: config.rules, now: () => now, onMismatch: (s) => counted.push(s), log: { warn: (o: object) => void warnings.push(o as Record<string, unknown>) } as never });
  return { check, counted, warnings, advance: (ms: number) => (now += ms) };
}

describe('valueTypeGuard', () => {
  it('a value no value rule on its tag can use is a mismatch; one that any of them can use is not', () => {
    const { check, counted } = guard();
    expect(check(sig('oven/temperature', '92.5'))).toMatchObject({ rule: 'hot', expected: 'number', got: 'string' });
    expect(check(sig('oven/temperature', true))).toMatchObject({ rule: 'hot', got: 'boolean' });
    expect(check(sig('oven/temperature', 92.5))).toBeUndefined();
    // Two rules on one tag, a string and a number one: either type is fine, a boolean fits the number one.
    expect(check(sig('press/state', 'RUN'))).toBeUndefined();
    expect(check(sig('press/state', 3))).toBeUndefined();
    expect(check(sig('press/state', false))).toBeUndefined();
    // equals: true takes 1 and true, not "true".
    expect(check(sig('press/alarm', 1))).toBeUndefined();
    expect(check(sig('press/alarm', 'true'))).toMatchObject({ rule: 'alarm', expected: 'number or boolean', got: 'string' });
    // unchangedFor takes anything; tags no rule watches, nulls and readings that are not good are not checked.
    expect(check(sig('tank/level', 'n/a'))).toBeUndefined();
    expect(check(sig('line/speed', 'fast'))).toBeUndefined();
    expect(check(sig('oven/temperature', null))).toBeUndefined();
    expect(check(sig('oven/temperature', 'n/a', 'bad'))).toBeUndefined();
    expect(counted).toEqual(['mes', 'mes', 'mes']);
  });

  it('warns at most once a minute per tag, on the injected clock', () => {
    const { check, warnings, advance, counted } = guard();
    check(sig('a/temperature', 'x'));
    check(sig('b/temperature', 'x'));
    advance(59_999);
    check(sig('a/temperature', 'x'));
    expect(warnings.map((w) => w.tag)).toEqual(['a/temperature', 'b/temperature']);
    advance(1);
    check(sig('a/temperature', 'x'));
    expect(warnings.map((w) => w.tag)).toEqual(['a/temperature', 'b/temperature', 'a/temperature']);
    expect(warnings[0]).toMatchObject({ source: 'mes', rule: 'hot', expected: 'number', got: 'string', reason: 'type' });
    expect(counted).toHaveLength(4);
  });
});
