import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { RuleHit } from './hit.ts';
import { silence } from './silence.ts';
import type { Reading } from './types.ts';

const rules = parseConfig(`
gateway: { id: test }
rules:
  - id: comms
    when: { source: "plc-*", silentFor: 30s }
    fault: comms-lost
    priority: P1
  - id: overtemp
    when: { tag: "**/temperature", above: 80 }
    fault: overtemp
    priority: P2
`).rules;

const from = (source: string, quality: Reading['quality'] = 'good'): Reading => ({
  source,
  tag: `packaging/sealer-01/temperature`,
  value: 20,
  quality,
  ts: 0,
  asset: 'sealer-01',
  area: 'packaging',
});

const brief = (h: RuleHit) => ({ kind: h.kind, asset: h.asset, area: h.area, at: h.at, since: h.evidence.ts });
const R = (asset: string, at: number, since: number) => ({ kind: 'raise', asset, area: null, at, since });
const C = (asset: string, at: number, since: number) => ({ kind: 'clear', asset, area: null, at, since });

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('silence (silentFor: 30s)', () => {
  it('a gap shorter than silentFor opens nothing', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Every 20 s, then stop watching at 100 s.
      const readings = cold('a 19999ms a 19999ms a 19999ms a 19999ms a', { a: from('plc-1') });
      expectObservable(readings.pipe(silence(rules, ts)), '^ 100s !').toBe('');
    });
  });

  it('a longer gap raises once at exactly last + silentFor, on the source; data returning clears', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Signals at 0 and 10 s, then nothing until 90 s: raise at 40 s (only once), clear at 90 s,
      // then silence again raises at 120 s.
      const readings = cold('a 9999ms a 79999ms a', { a: from('plc-1') });
      expectObservable(readings.pipe(silence(rules, ts), map(brief)), '^ 150s !').toBe('40s r 49999ms c 29999ms s', {
        r: R('plc-1', 40_000, 10_000),
        c: C('plc-1', 90_000, 90_000),
        s: R('plc-1', 120_000, 90_000),
      });
    });
  });

  it('any signal counts as life, whatever its quality', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const readings = cold('a 19999ms b 19999ms c', { a: from('plc-1'), b: from('plc-1', 'bad'), c: from('plc-1', 'uncertain') });
      expectObservable(readings.pipe(silence(rules, ts), map(brief)), '^ 80s !').toBe('70s r', { r: R('plc-1', 70_000, 40_000) });
    });
  });

  it('an expected source that never speaks raises at silentFor after subscription', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // plc-1 talks every 10 s; plc-2 is expected but silent; "mes" matches no rule.
      const readings = cold('a 9999ms a 9999ms a 9999ms a 9999ms a 9999ms a', { a: from('plc-1') });
      expectObservable(readings.pipe(silence(rules, ts, ['plc-2', 'mes']), map(brief)), '^ 60s !').toBe('30s r', { r: R('plc-2', 30_000, 0) });
    });
  });

  it('sources are watched independently', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // plc-1 at 0, plc-2 at 5 s and 25 s: plc-1 raises at 30 s, plc-2 at 55 s; plc-1 back at 60 s.
      const readings = cold('a 4999ms b 19999ms b 34999ms a', { a: from('plc-1'), b: from('plc-2') });
      expectObservable(readings.pipe(silence(rules, ts), map(brief)), '^ 80s !').toBe('30s r 24999ms s 4999ms c', {
        r: R('plc-1', 30_000, 0),
        s: R('plc-2', 55_000, 25_000),
        c: C('plc-1', 60_000, 60_000),
      });
    });
  });

  it('sources no silentFor rule matches are never watched', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: from('mes') }).pipe(silence(rules, ts)), '^ 120s !').toBe('');
    });
  });

  it('carries a message naming the source and the last time heard', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: from('plc-1') }).pipe(silence(rules, ts), map((h) => h.evidence)), '^ 40s !').toBe('30s e', {
        e: { tag: 'plc-1', value: null, ts: 0, message: 'no signal from plc-1 since 1970-01-01T00:00:00.000Z' },
      });
    });
  });
});
