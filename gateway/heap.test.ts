import { describe, expect, it } from 'vitest';
import { collectAfterStart, HEAP_GROWING_PERCENT, heapFlags } from './heap.ts';

const ALL = [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--semi-space-growth-factor=1'];

describe('heapFlags', () => {
  it('caps the heap growth and the young generation when the operator gave no flag', () => {
    expect(heapFlags([], undefined)).toEqual(ALL);
    expect(heapFlags(['--enable-source-maps'], '--max-old-space-size=512')).toEqual(ALL);
  });

  it("keeps the operator's own values, from the command line or NODE_OPTIONS", () => {
    expect(heapFlags(['--heap-growing-percent=20'], undefined)).toEqual(['--semi-space-growth-factor=1']);
    expect(heapFlags([], '--max-old-space-size=512 --heap_growing_percent=80')).toEqual(['--semi-space-growth-factor=1']);
    expect(heapFlags(['--max-semi-space-size=4'], undefined)).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(heapFlags([], '--semi-space-growth-factor=2 --heap-growing-percent=100')).toEqual([]);
  });
});

describe('collectAfterStart', () => {
  it('runs a full GC now: what start read and dropped is gone, not left for V8 to size the heap by', async () => {
    const ref = (() => new WeakRef({ rows: Array.from({ length: 10_000 }, (_, i) => ({ i })) }))();
    // a WeakRef's target stays alive until the end of the job that made (or deref'd) it
    await new Promise((resolve) => setImmediate(resolve));
    expect(ref.deref()).toBeDefined();
    await new Promise((resolve) => setImmediate(resolve));
    collectAfterStart();
    expect(ref.deref()).toBeUndefined();
    // the main context does not get a global gc() out of it
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
