import { describe, expect, it } from 'vitest';
import type { RegisterType } from './config.ts';
import { CASES, ORDERS, type Order } from './fixtures/patterns.ts';
import { applyScale, decodeRegisters, encodeRegister, encodeRegisters, toBigEndianBytes, type Layout } from './decode.ts';

const layout = (type: RegisterType, order: Order, bit?: number): Layout => ({ type, ...ORDERS[order], bit });

describe('decodeRegisters', () => {
  it.each(CASES)('$type $order $words -> $value', ({ type, order, words, value }) => {
    expect(decodeRegisters(words, layout(type, order))).toBe(value);
  });

  it.each(CASES)('encodeRegisters is its inverse: $type $order', ({ type, order, words, value }) => {
    expect(encodeRegisters(value, layout(type, order))).toEqual(words);
  });

  it('reads a bit of a register, 0 being the least significant', () => {
    const word = [0b1000_0000_0000_0101];
    expect([0, 1, 2, 14, 15].map((bit) => decodeRegisters(word, layout('bit', 'ABCD', bit)))).toEqual([true, false, true, false, true]);
  });

  it('takes the bit after byteOrder is applied', () => {
    // the device sends 0x0180 byte-swapped: the register is 0x8001
    expect(decodeRegisters([0x0180], layout('bit', 'BADC', 0))).toBe(true);
    expect(decodeRegisters([0x0180], layout('bit', 'BADC', 15))).toBe(true);
    expect(decodeRegisters([0x0180], layout('bit', 'BADC', 7))).toBe(false);
    expect(decodeRegisters([0x0180], layout('bit', 'ABCD', 7))).toBe(true);
  });

  it('passes float NaN and infinities through for the caller to judge', () => {
    expect(decodeRegisters([0x7fc0, 0x0000], layout('float32', 'ABCD'))).toBeNaN();
    expect(decodeRegisters([0x7f80, 0x0000], layout('float32', 'ABCD'))).toBe(Infinity);
    expect(decodeRegisters([0xfff0, 0, 0, 0], layout('float64', 'ABCD'))).toBe(-Infinity);
  });

  it('refuses a register count that does not fit the type', () => {
    expect(() => decodeRegisters([1], layout('float32', 'ABCD'))).toThrow(RangeError);
    expect(() => decodeRegisters([1, 2], layout('uint16', 'ABCD'))).toThrow(/uint16 needs 1/);
  });

  it('ignores bits above 16 in a register value', () => {
    expect(decodeRegisters([0x1_0005], layout('uint16', 'ABCD'))).toBe(5);
  });

  it('lays out bytes most significant first', () => {
    expect(toBigEndianBytes([0x5678, 0x1234], 'little', 'big').toString('hex')).toBe('12345678');
    expect(toBigEndianBytes([0x7856, 0x3412], 'little', 'little').toString('hex')).toBe('12345678');
  });
});

describe('applyScale', () => {
  it('computes value * scale + offset', () => {
    expect(applyScale(2305, 0.1, 0)).toBeCloseTo(230.5, 10);
    expect(applyScale(1234, 0.1, -10)).toBeCloseTo(113.4, 10);
    expect(applyScale(-2, 2, 1)).toBe(-3);
  });
  it('leaves values alone with scale 1 and offset 0, and booleans always', () => {
    expect(applyScale(0.1 + 0.2, 1, 0)).toBe(0.1 + 0.2);
    expect(applyScale(true, 10, 5)).toBe(true);
  });
});

describe('encodeRegister (holding writes)', () => {
  it.each([
    [0, 0],
    [42, 42],
    [65535, 65535],
    [-1, 0xffff],
    [-32768, 0x8000],
  ])('%d -> %d', (value, word) => expect(encodeRegister(value)).toBe(word));

  it.each([65536, -32769, 1.5, NaN, Infinity])('refuses %d', (value) => expect(encodeRegister(value)).toBeUndefined());
});
