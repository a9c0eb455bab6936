import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapFlags } from './heap.ts';

describe('heapFlags', () => {
  it('caps the old generation growth when the operator gave no flag', () => {
    expect(heapFlags([], undefined)).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(heapFlags(['--max-semi-space-size=4'], '--enable-source-maps')).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  it("keeps the operator's own value, from the command line or NODE_OPTIONS", () => {
    expect(heapFlags(['--heap-growing-percent=20'], undefined)).toEqual([]);
    expect(heapFlags([], '--max-old-space-size=512 --heap_growing_percent=80')).toEqual([]);
  });
});
