import { describe, expect, it } from 'vitest';
import { float32Value, roundTo, tidy, withUnit } from './values.ts';

describe('values as people read them', () => {
  it('float32Value: the shortest decimal that reads back as the same float32', () => {
    expect(float32Value(196.39999389648438)).toBe(196.4);
    expect(float32Value(Math.fround(0.1))).toBe(0.1);
    expect(float32Value(Math.fround(-123.456))).toBe(-123.456);
    expect(float32Value(Math.fround(123456.789))).toBe(123456.79); // all a float32 holds of it
    expect(float32Value(16777216)).toBe(16777216); // exact integers stay exact
    expect(float32Value(0)).toBe(0);
    expect(float32Value(Number.NaN)).toBeNaN();
    expect(float32Value(-Infinity)).toBe(-Infinity);
    // Every result is the same float32: nothing the device sent is lost.
    for (const x of [196.4, 3.14159, 1e-7, 2.5e9, -0.000123, 65535.5]) expect(Math.fround(float32Value(Math.fround(x)))).toBe(Math.fround(x));
  });

  it('roundTo: decimals as written, halves away from zero', () => {
    expect(roundTo(23.456789, 1)).toBe(23.5);
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(-2.5, 0)).toBe(-3);
    expect(roundTo(-0.04, 1)).toBe(0);
    expect(roundTo(1e-7, 2)).toBe(0);
    expect(roundTo(1.5e21, 1)).toBe(1.5e21);
  });

  it('tidy removes arithmetic noise; withUnit shows the unit after the value', () => {
    expect(tidy(1234 * 0.1)).toBe(123.4);
    expect(tidy(2305 * 0.1 - 30)).toBe(200.5);
    expect(withUnit(196.4, 'V')).toBe('196.4 V');
    expect(withUnit(81, undefined)).toBe('81');
    expect(withUnit('RUN', undefined)).toBe('"RUN"');
    expect(withUnit(null, 'V')).toBe('null V');
  });
});
