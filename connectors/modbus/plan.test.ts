import { describe, expect, it } from 'vitest';
import { modbusSourceSchema, type RegisterConfig } from './config.ts';
import { backoffBase, backoffDelay } from './backoff.ts';
import { planReads, splitRead, type PlannedRead } from './plan.ts';

const registers = (list: Record<string, unknown>[]): RegisterConfig[] =>
  modbusSourceSchema.parse({ id: 'p', type: 'modbus', host: 'h', registers: list.map((r, i) => ({ tag: `t/${i}`, ...r })) }).registers;
const shape = (plans: PlannedRead[]) => plans.map((p) => `${p.table} ${p.start}+${p.count} [${p.items.map((i) => `${i.register.tag}@${i.offset}`).join(' ')}]`);
const opts = { maxGap: 10, maxRegisters: 125 };

describe('planReads', () => {
  it('merges adjacent and near registers of one table into one read', () => {
    const plan = planReads(
      registers([
        { table: 'holding', address: 0, type: 'float32' },
        { table: 'holding', address: 2 },
        { table: 'holding', address: 40, type: 'int16' },
      ]),
      opts,
    );
    expect(shape(plan)).toEqual(['holding 0+3 [t/0@0 t/1@2]', 'holding 40+1 [t/2@0]']);
  });

  it('joins across a hole of exactly maxGap registers, not one more', () => {
    expect(
      shape(
        planReads(
          registers([
            { table: 'input', address: 0 },
            { table: 'input', address: 11 },
          ]),
          opts,
        ),
      ),
    ).toEqual(['input 0+12 [t/0@0 t/1@11]']);
    expect(
      shape(
        planReads(
          registers([
            { table: 'input', address: 0 },
            { table: 'input', address: 12 },
          ]),
          opts,
        ),
      ),
    ).toEqual(['input 0+1 [t/0@0]', 'input 12+1 [t/1@0]']);
    expect(
      planReads(
        registers([
          { table: 'input', address: 0 },
          { table: 'input', address: 1 },
          { table: 'input', address: 3 },
        ]),
        { ...opts, maxGap: 0 },
      ),
    ).toHaveLength(2);
  });

  it('sorts by address whatever the config order', () => {
    const plan = planReads(
      registers([
        { table: 'holding', address: 9 },
        { table: 'holding', address: 3 },
        { table: 'holding', address: 6 },
      ]),
      opts,
    );
    expect(shape(plan)).toEqual(['holding 3+7 [t/1@0 t/2@3 t/0@6]']);
  });

  it('never asks for more than 125 registers in one read', () => {
    const plan = planReads(registers(Array.from({ length: 130 }, (_, a) => ({ table: 'holding', address: a }))), opts);
    expect(plan.map((p) => [p.start, p.count])).toEqual([
      [0, 125],
      [125, 5],
    ]);
    expect(plan.flatMap((p) => p.items)).toHaveLength(130);
  });

  it('keeps a multi-register value whole: a float32 that would cross the limit starts the next read', () => {
    const plan = planReads(
      registers([
        { table: 'holding', address: 0 },
        { table: 'holding', address: 124, type: 'float32' },
      ]),
      opts,
    );
    expect(plan.map((p) => [p.start, p.count])).toEqual([
      [0, 1],
      [124, 2],
    ]);
  });

  it('honours a lower per-device limit', () => {
    const plan = planReads(registers(Array.from({ length: 20 }, (_, a) => ({ table: 'holding', address: a }))), { maxGap: 10, maxRegisters: 8 });
    expect(plan.map((p) => p.count)).toEqual([8, 8, 4]);
  });

  it('lets several bits of one status word share its register', () => {
    const plan = planReads(
      registers([
        { table: 'holding', address: 5, type: 'bit', bit: 0 },
        { table: 'holding', address: 5, type: 'bit', bit: 15 },
        { table: 'holding', address: 4, type: 'uint32' },
      ]),
      opts,
    );
    expect(shape(plan)).toEqual(['holding 4+2 [t/2@0 t/0@1 t/1@1]']);
  });

  it('plans bit tables in bits: gap 16 x maxGap, at most 2000 per read', () => {
    expect(
      shape(
        planReads(
          registers([
            { table: 'coil', address: 0 },
            { table: 'coil', address: 161 },
          ]),
          opts,
        ),
      ),
    ).toEqual(['coil 0+162 [t/0@0 t/1@161]']);
    expect(
      planReads(
        registers([
          { table: 'coil', address: 0 },
          { table: 'coil', address: 162 },
        ]),
        opts,
      ),
    ).toHaveLength(2);
    const every100 = planReads(registers(Array.from({ length: 25 }, (_, k) => ({ table: 'discrete', address: k * 100 }))), opts);
    expect(every100.map((p) => [p.start, p.count])).toEqual([
      [0, 1901],
      [2000, 401],
    ]);
  });

  it('keeps tables apart, in a fixed order', () => {
    const plan = planReads(
      registers([
        { table: 'discrete', address: 0 },
        { table: 'coil', address: 0 },
        { table: 'input', address: 0 },
        { table: 'holding', address: 0 },
      ]),
      opts,
    );
    expect(plan.map((p) => p.table)).toEqual(['holding', 'input', 'coil', 'discrete']);
  });

  it('plans nothing for an empty map', () => {
    expect(planReads([], opts)).toEqual([]);
  });
});

describe('splitRead', () => {
  it('reads each value alone, except values on the very same registers', () => {
    const [read] = planReads(
      registers([
        { table: 'holding', address: 0, type: 'float32' },
        { table: 'holding', address: 5, type: 'bit', bit: 1 },
        { table: 'holding', address: 5, type: 'bit', bit: 2 },
        { table: 'holding', address: 8 },
      ]),
      opts,
    );
    expect(shape(splitRead(read as PlannedRead))).toEqual(['holding 0+2 [t/0@0]', 'holding 5+1 [t/1@0 t/2@0]', 'holding 8+1 [t/3@0]']);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base with equal jitter (half fixed, half random)', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 30_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 30_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  });
  it('is capped at 30 s, also after very many failures', () => {
    expect(backoffDelay(6, 1000, 30_000, () => 0.999_999)).toBeLessThanOrEqual(30_000);
    expect(backoffDelay(10_000, 1000, undefined, () => 1)).toBe(30_000);
    expect(backoffDelay(10_000, 1000, undefined, () => 0)).toBe(15_000);
  });
  it('starts from the poll interval, within 100 ms .. 1 s', () => {
    expect([10, 100, 250, 1000, 60_000].map(backoffBase)).toEqual([100, 100, 250, 1000, 1000]);
  });
});
