import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Signal } from '../../rules/types.ts';
import { testApp } from './fixture.ts';
import { ingestBatcher } from './signals.ts';
import { createMetrics } from '../metrics.ts';
import { Registry } from 'prom-client';

let t: Awaited<ReturnType<typeof testApp>>;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

/** `n` signals; `raise` makes each a new ticket, otherwise they change nothing (cheap: only the batching is under test). */
const signals = (n: number, from = 0, raise = false): Signal[] =>
  Array.from({ length: n }, (_, i) => ({ source: 'mes-http', tag: `packaging/m-${from + i}/alarm`, value: raise, quality: 'good', ts: t.clock.now() }));

it('requests of one turn commit together, at most 5,000 signals a commit; a larger request goes whole, alone; every one is answered', async () => {
  const commits: number[] = [];
  const runtime = { ...t.runtime, pushMany: (l: readonly Signal[]) => (commits.push(l.length), t.runtime.pushMany(l)) };
  const batcher = ingestBatcher(runtime, createMetrics(new Registry(), t.store));
  await Promise.all([batcher.submit(signals(2, 0, true)), batcher.submit(signals(3, 2, true))]);
  expect(commits).toEqual([5]);
  expect(t.store.list({ history: false }).total).toBe(5);
  commits.length = 0;
  await Promise.all([signals(3_000, 10), signals(3_000, 3_010), signals(7_000, 6_010), signals(10, 13_010)].map((l) => batcher.submit(l)));
  expect(commits).toEqual([3_000, 3_000, 7_000, 10]);
});
