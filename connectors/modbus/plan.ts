import { isBitTable, registerWidth, type RegisterConfig, type Table } from './config.ts';

/** Protocol limits per request (Modbus application protocol spec v1.1b3, §6.1-6.4). */
export const MAX_REGISTERS_PER_READ = 125;
export const MAX_BITS_PER_READ = 2000;

/** A mapped value inside a planned read: its registers (or bit) start `offset` after the read's start. */
export interface PlannedItem {
  register: RegisterConfig;
  offset: number;
}

/** One read request that yields several signals. */
export interface PlannedRead {
  table: Table;
  start: number;
  count: number;
  items: PlannedItem[];
}

export interface PlanOptions {
  /** Unused registers a read may span to join two mapped ones; bit tables allow 16 × this many bits. */
  maxGap: number;
  /** Registers per request (≤ 125). Bit tables always use 2000. */
  maxRegisters: number;
}

const TABLE_ORDER: readonly Table[] = ['holding', 'input', 'coil', 'discrete'];

/** Units (registers or bits) the value occupies. */
const span = (r: RegisterConfig): number => (isBitTable(r.table) ? 1 : registerWidth(r.type));

/**
 * Plans the reads of one poll: per table, mapped values sorted by address are
 * merged into one request while the hole between them is at most the gap and
 * the request stays within the per-request limit. Overlapping values (several
 * bits of one status word) share their registers.
 *
 *   holding 0 (float32), 2 (uint16), 40 (int16), maxGap 10  →  [0..2], [40]
 */
export function planReads(registers: readonly RegisterConfig[], opts: PlanOptions): PlannedRead[] {
  const plans: PlannedRead[] = [];
  for (const table of TABLE_ORDER) {
    const bits = isBitTable(table);
    const limit = bits ? MAX_BITS_PER_READ : Math.min(opts.maxRegisters, MAX_REGISTERS_PER_READ);
    const gap = bits ? opts.maxGap * 16 : opts.maxGap;
    const sorted = registers.filter((r) => r.table === table).sort((a, b) => a.address - b.address || span(b) - span(a));
    let current: PlannedRead | undefined;
    for (const register of sorted) {
      const end = register.address + span(register); // exclusive
      const currentEnd = current ? current.start + current.count : 0;
      const fits = current !== undefined && register.address - currentEnd <= gap && Math.max(end, currentEnd) - current.start <= limit;
      if (!current || !fits) {
        current = { table, start: register.address, count: end - register.address, items: [] };
        plans.push(current);
      }
      current.count = Math.max(current.count, end - current.start);
      current.items.push({ register, offset: register.address - current.start });
    }
  }
  return plans;
}

/**
 * One read per mapped value (values on the very same registers, like bits of
 * one status word, still share a read): the fallback when a device refuses a
 * batched read that spans a hole in its map.
 */
export function splitRead(read: PlannedRead): PlannedRead[] {
  const byRange = new Map<string, PlannedRead>();
  for (const { register } of read.items) {
    const key = `${register.address}:${span(register)}`;
    const single = byRange.get(key) ?? { table: read.table, start: register.address, count: span(register), items: [] };
    single.items.push({ register, offset: 0 });
    byRange.set(key, single);
  }
  return [...byRange.values()];
}
