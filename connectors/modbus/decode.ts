import { registerWidth, type RegisterType } from './config.ts';

/**
 * Pure register decoding. Modbus carries each register big-endian (A B); a
 * device's multi-register values come in one of four layouts:
 *
 *   wordOrder big,    byteOrder big    ABCD  (Modbus "standard", most meters)
 *   wordOrder little, byteOrder big    CDAB  (word-swapped, common on PLCs)
 *   wordOrder big,    byteOrder little BADC  (byte-swapped)
 *   wordOrder little, byteOrder little DCBA  (fully little-endian)
 *
 * where A is the most significant byte of the value. For 16-bit types only
 * byteOrder matters (AB or BA).
 */
export interface Layout {
  type: RegisterType;
  wordOrder: 'big' | 'little';
  byteOrder: 'big' | 'little';
  /** For type bit: which bit of the register (0 = least significant), after byteOrder. */
  bit?: number | undefined;
}

const swap16 = (w: number): number => ((w & 0xff) << 8) | ((w >> 8) & 0xff);

/** The value's bytes most significant first, from its registers as read. */
export function toBigEndianBytes(words: ArrayLike<number>, wordOrder: Layout['wordOrder'], byteOrder: Layout['byteOrder']): Buffer {
  const n = words.length;
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const raw = (words[wordOrder === 'big' ? i : n - 1 - i] as number) & 0xffff;
    buf.writeUInt16BE(byteOrder === 'big' ? raw : swap16(raw), i * 2);
  }
  return buf;
}

/**
 * Decodes one value from exactly `registerWidth(type)` registers. Floats may
 * come back NaN or ±Infinity (devices use NaN for "no reading"); the caller
 * decides what that means.
 */
export function decodeRegisters(words: ArrayLike<number>, layout: Layout): number | boolean {
  const width = registerWidth(layout.type);
  if (words.length !== width) throw new RangeError(`${layout.type} needs ${width} register(s), got ${words.length}`);
  const b = toBigEndianBytes(words, layout.wordOrder, layout.byteOrder);
  switch (layout.type) {
    case 'uint16':
      return b.readUInt16BE(0);
    case 'int16':
      return b.readInt16BE(0);
    case 'uint32':
      return b.readUInt32BE(0);
    case 'int32':
      return b.readInt32BE(0);
    case 'float32':
      return b.readFloatBE(0);
    case 'float64':
      return b.readDoubleBE(0);
    case 'bit':
      return ((b.readUInt16BE(0) >> (layout.bit ?? 0)) & 1) === 1;
  }
}

/** Engineering value: raw * scale + offset. Booleans pass through unchanged. */
export function applyScale(raw: number | boolean, scale: number, offset: number): number | boolean {
  if (typeof raw === 'boolean') return raw;
  return scale === 1 && offset === 0 ? raw : raw * scale + offset;
}

/**
 * The one register a holding-register write sends: an integer that fits
 * int16 or uint16 (-32768..65535); negatives go out as two's complement.
 * Returns undefined when the value does not fit.
 */
export function encodeRegister(value: number): number | undefined {
  if (!Number.isInteger(value) || value < -32768 || value > 65535) return undefined;
  return value < 0 ? value + 65536 : value;
}

/** Registers for a value, in the device's layout (the inverse of decodeRegisters, for tests and simulators). */
export function encodeRegisters(value: number | boolean, layout: Layout): number[] {
  const width = registerWidth(layout.type);
  const b = Buffer.alloc(width * 2);
  switch (layout.type) {
    case 'uint16':
      b.writeUInt16BE(value as number, 0);
      break;
    case 'int16':
      b.writeInt16BE(value as number, 0);
      break;
    case 'uint32':
      b.writeUInt32BE(value as number, 0);
      break;
    case 'int32':
      b.writeInt32BE(value as number, 0);
      break;
    case 'float32':
      b.writeFloatBE(value as number, 0);
      break;
    case 'float64':
      b.writeDoubleBE(value as number, 0);
      break;
    case 'bit':
      b.writeUInt16BE(value === true ? 1 << (layout.bit ?? 0) : 0, 0);
      break;
  }
  const bigEndianWords = Array.from({ length: width }, (_, i) => b.readUInt16BE(i * 2));
  // Reversing words and swapping bytes each undo themselves: the same permutation maps back.
  const device = toBigEndianBytes(bigEndianWords, layout.wordOrder, layout.byteOrder);
  return Array.from({ length: width }, (_, i) => device.readUInt16BE(i * 2));
}
