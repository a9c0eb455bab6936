import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { goodQuality } from './quality.ts';
import type { Reading } from './types.ts';

const reading = (value: number, quality: Reading['quality']): Reading => ({
  source: 'plc',
  tag: 'packaging/sealer-01/temperature',
  value,
  quality,
  ts: 0,
  asset: 'sealer-01',
  area: 'packaging',
});

describe('goodQuality', () => {
  it('passes good readings and drops bad and uncertain ones', () => {
    const ts = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    ts.run(({ cold, expectObservable }) => {
      const g = reading(1, 'good');
      const h = reading(4, 'good');
      const b = reading(2, 'bad');
      const u = reading(3, 'uncertain');
      expectObservable(cold('g-b-u-h|', { g, b, u, h }).pipe(goodQuality())).toBe('g-----h|', { g, h });
    });
  });

  it('passes errors through', () => {
    const ts = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('b-#', { b: reading(2, 'bad') }, new Error('x')).pipe(goodQuality())).toBe('--#', undefined, new Error('x'));
    });
  });
});
