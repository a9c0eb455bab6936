import { DataType, Variant } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { signalValue } from './items.ts';

describe('signalValue', () => {
  it('a Float (float32) is cut to its own precision; a Double is kept whole', () => {
    expect(signalValue(new Variant({ dataType: DataType.Float, value: Math.fround(196.4) }))).toEqual({ value: 196.4 });
    expect(signalValue(new Variant({ dataType: DataType.Float, value: Math.fround(0.1) }))).toEqual({ value: 0.1 });
    expect(signalValue(new Variant({ dataType: DataType.Double, value: Math.fround(196.4) }))).toEqual({ value: Math.fround(196.4) });
    expect(signalValue(new Variant({ dataType: DataType.Float, value: Number.NaN }))).toEqual({ value: Number.NaN });
  });
});
