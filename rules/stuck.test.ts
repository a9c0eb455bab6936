import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { RuleHit } from './hit.ts';
import { stuck } from './stuck.ts';
import type { Reading } from './types.ts';

const rules = parseConfig(`
gateway: { id: test }
rules:
  - id: stuck
    when: { tag: "**/temperature", unchangedFor: 10m }
    fault: sensor-stuck
    category: instrumentation
    priority: P3
`).rules;

const TEMP = 'packaging/sealer-01/temperature';
const temp = (value: Reading['value'], quality: Reading['quality'] = 'good', tag = TEMP): Reading => ({
  source: 'plc',
  tag,
  value,
  quality,
  ts: 0,
  asset: tag.split('/')[1] as string,
  area: 'packaging',
});

const brief = (h: RuleHit) => ({ kind: h.kind, asset: h.asset, at: h.at, value: h.evidence.value });
const R = (at: number, value: Reading['value'], asset = 'sealer-01') => ({ kind: 'raise', asset, at, value });
const C = (at: number, value: Reading['value'], asset = 'sealer-01') => ({ kind: 'clear', asset, at, value });
const MIN = 60_000;

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('stuck (unchangedFor: 10m)', () => {
  it('the same good value for the whole duration raises at the deadline, on the timer', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // 64.5 at 0, 5m and 9m: raises at 10m (counted from the first), once.
      const readings = cold('a 5m a 4m a', { a: temp(64.5) });
      expectObservable(readings.pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('10m r', { r: R(10 * MIN, 64.5) });
    });
  });

  it('a report-by-exception source that sends once is covered too', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: temp(21) }).pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('10m r', { r: R(10 * MIN, 21) });
    });
  });

  it('a change before the deadline re-arms it from the change', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const readings = cold('a 5m b', { a: temp(64.5), b: temp(65) });
      // b arrives at 5m + 1 frame; raise 10 min later.
      expectObservable(readings.pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('15m 1ms r', { r: R(15 * MIN + 1, 65) });
    });
  });

  it('a change clears a raised stuck condition and re-arms it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // 64.5 at 0 -> raise at 10m; 65.1 at 12m -> clear; unchanged again -> raise at 22m.
      const readings = cold('a 12m b', { a: temp(64.5), b: temp(65.1) });
      expectObservable(readings.pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('10m r 2m c 9m 59999ms s', {
        r: R(10 * MIN, 64.5),
        c: C(12 * MIN + 1, 65.1),
        s: R(22 * MIN + 1, 65.1),
      });
    });
  });

  it('bad quality suspends it: no raise while data is bad, the clock restarts when good data returns', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // good 64.5 at 0, bad at 5m: the 10m deadline passes silently;
      // good 64.5 (same value) at 12m restarts the clock -> raise at 22m.
      const readings = cold('a 5m b 7m a', { a: temp(64.5), b: temp(64.5, 'bad') });
      expectObservable(readings.pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('22m 2ms r', { r: R(22 * MIN + 2, 64.5) });
    });
  });

  it('good data returning before the old deadline still waits the full duration', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // good at 0, uncertain at 5m, good same value at 7m -> raise at 17m, not at 10m.
      const readings = cold('a 5m b 2m a', { a: temp(64.5), b: temp(64.5, 'uncertain') });
      expectObservable(readings.pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('17m 2ms r', { r: R(17 * MIN + 2, 64.5) });
    });
  });

  it('bad readings of a tag never seen good start nothing', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('b 1m b', { b: temp(0, 'bad') }).pipe(stuck(rules, ts)), '^ 60m !').toBe('');
    });
  });

  it('tags are watched independently, and unmatched tags not at all', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const other = 'packaging/sealer-02/temperature';
      const readings = cold('a 3m b 3m c', { a: temp(20), b: temp(30, 'good', other), c: temp(1, 'good', 'packaging/sealer-01/speed') });
      expectObservable(readings.pipe(stuck(rules, ts), map(brief)), '^ 60m !').toBe('10m r 3m s', {
        r: R(10 * MIN, 20),
        s: R(13 * MIN + 1, 30, 'sealer-02'),
      });
    });
  });
});
