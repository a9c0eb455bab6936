import { afterEach, describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { seeded } from '../seeded.ts';
import { backoffCeiling } from '../../model/backoff.ts';
import { createDeliveryWorker, MAX_RETRY_AFTER, type DeliveryPolicy, type Lane } from './worker.ts';

/**
 * The worker against an in-memory queue (the policy the forwarder and the
 * notifier implement against SQLite): virtual time, the receiver's answers
 * in the test's hands, no sleeps (an outcome is written on the next
 * macrotask, which `turn()` waits for).
 */
interface Item {
  id: number;
  lane: string;
  attempts: number;
  nextAttemptAt: number;
  parked: boolean;
  done: boolean;
}
type Answer = 'ok' | 'poison' | { retry: true; retryAfterMs?: number };
type Rec = { id: number; outcome: 'ok' | 'poison' | 'retry' | 'aborted'; attempts?: number; nextAttemptAt?: number };
class Refused extends Error {}
class Failed extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('503');
  }
}

const T0 = 1_000_000;
const turn = () => new Promise<void>((r) => setImmediate(r));
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

function setup(opts: { lanes?: Lane[]; random?: () => number; answer?: (item: Item, call: number) => Answer | 'hang'; idleCheckMs?: number } = {}) {
  const clock = new VirtualScheduler(T0);
  const lanes = opts.lanes ?? [{ id: 'a', concurrency: 1, backoff: { base: 1_000, max: 8_000 } }];
  const items = new Map<number, Item>();
  let nextId = 1;
  const calls: { id: number; at: number }[] = [];
  const outcomes: Rec[] = [];
  /** Requests that hang until the test answers them. */
  const hanging = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  let inFlight = 0;
  let maxInFlight = 0;
  const answer = opts.answer ?? (() => 'ok');

  const policy: DeliveryPolicy<Item, number, Rec> = {
    lanes,
    key: (item) => item.id,
    take(lane, now, room, busy) {
      const waiting = [...items.values()].filter((i) => i.lane === lane.id && !i.parked && !i.done && !busy.has(i.id));
      const due = waiting.filter((i) => i.nextAttemptAt <= now).slice(0, room);
      const later = waiting.filter((i) => i.nextAttemptAt > now).map((i) => i.nextAttemptAt);
      return { jobs: due.map((i) => ({ ...i })), wakeAt: Math.min(Infinity, ...later) };
    },
    async deliver(item, signal) {
      calls.push({ id: item.id, at: clock.now() });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const a = answer(item, calls.length);
        if (a === 'hang') {
          const onAbort = () => hanging.get(item.id)?.reject(new Error('aborted'));
          signal.addEventListener('abort', onAbort);
          await new Promise<void>((resolve, reject) => hanging.set(item.id, { resolve, reject })).finally(() => signal.removeEventListener('abort', onAbort));
        } else {
          await Promise.resolve();
          if (a === 'poison') throw new Refused('400');
          if (a !== 'ok') throw new Failed(a.retryAfterMs);
        }
        return { kind: 'done', answered: true, record: { id: item.id, outcome: 'ok' } };
      } finally {
        inFlight--;
      }
    },
    failed(item, err) {
      if (err instanceof Refused) return { kind: 'park', answered: true, record: { id: item.id, outcome: 'poison' } };
      const attempts = item.attempts + 1;
      return { kind: 'retry', attempts, retryAfterMs: err instanceof Failed ? err.retryAfterMs : undefined, record: (nextAttemptAt) => ({ id: item.id, outcome: 'retry', attempts, nextAttemptAt }) };
    },
    aborted: (item) => ({ id: item.id, outcome: 'aborted' }),
    write(records) {
      for (const r of records) {
        const item = items.get(r.id) as Item;
        if (r.outcome === 'ok') item.done = true;
        if (r.outcome === 'poison') item.parked = true;
        if (r.outcome === 'retry') Object.assign(item, { attempts: r.attempts, nextAttemptAt: r.nextAttemptAt });
      }
    },
    settled: (r) => outcomes.push(r),
  };
  const worker = createDeliveryWorker(policy, { scheduler: clock, random: opts.random ?? (() => 0.5), idleCheckMs: opts.idleCheckMs ?? 30_000 });
  running.push(worker);
  return {
    clock,
    worker,
    items,
    calls,
    outcomes,
    hanging,
    maxInFlight: () => maxInFlight,
    add(lane = lanes[0]?.id as string): number {
      const id = nextId++;
      items.set(id, { id, lane, attempts: 0, nextAttemptAt: clock.now(), parked: false, done: false });
      return id;
    },
    /** Lets requests answer and outcomes be written, then runs the timers due at `t` (repeatedly: each outcome pumps). */
    async at(t: number) {
      for (let i = 0; i < 5; i++) {
        clock.advanceTo(t);
        await turn();
      }
    },
  };
}

describe('delivery worker', () => {
  it('backs off exponentially with full jitter between base and max, from the attempts on disk', async () => {
    const t = setup({ answer: () => ({ retry: true }), random: () => 0.5 });
    t.add();
    t.worker.start();
    await t.at(T0);
    // random 0.5: half the ceiling; ceilings 1 s, 2 s, 4 s, 8 s, then 8 s (max).
    const expected = [500, 1_000, 2_000, 4_000, 4_000, 4_000];
    let now = T0;
    for (const delay of expected) {
      await t.at(now + delay - 1);
      const before = t.calls.length;
      await t.at(now + delay);
      expect(t.calls.length, `retry after ${delay} ms`).toBe(before + 1);
      now += delay;
    }
    expect(t.calls.map((c) => c.at - T0)).toEqual([0, 500, 1_500, 3_500, 7_500, 11_500, 15_500]);
    expect(t.items.get(1)?.attempts).toBe(7);
  });

  it('a jittered delay stays within [0, ceiling) for any random source', async () => {
    const random = seeded(11);
    const t = setup({ answer: () => ({ retry: true }), random });
    t.add();
    t.worker.start();
    await t.at(T0);
    for (let n = 1; n <= 12; n++) {
      const item = t.items.get(1) as Item;
      expect(item.attempts).toBe(n);
      const delay = item.nextAttemptAt - t.clock.now();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(backoffCeiling(n, 1_000, 8_000));
      await t.at(item.nextAttemptAt);
    }
  });

  it('honours Retry-After, capped at an hour, instead of the backoff', async () => {
    const t = setup({ answer: (_i, call) => (call === 1 ? { retry: true, retryAfterMs: 5_000 } : call === 2 ? { retry: true, retryAfterMs: 10 * 3_600_000 } : 'ok') });
    t.add();
    t.worker.start();
    await t.at(T0);
    expect(t.items.get(1)?.nextAttemptAt).toBe(T0 + 5_000);
    await t.at(T0 + 5_000);
    expect(t.items.get(1)?.nextAttemptAt).toBe(T0 + 5_000 + MAX_RETRY_AFTER);
    await t.at(T0 + 5_000 + MAX_RETRY_AFTER - 1);
    expect(t.calls).toHaveLength(2);
    await t.at(T0 + 5_000 + MAX_RETRY_AFTER);
    expect(t.calls).toHaveLength(3);
    expect(t.items.get(1)?.done).toBe(true);
  });

  it('a Retry-After holds the whole lane of a receiver with a circuit', async () => {
    const lane: Lane = { id: 'central', concurrency: 4, backoff: { base: 1_000, max: 60_000 }, circuit: { threshold: 3 } };
    const t = setup({ lanes: [lane], answer: (_i, call) => (call === 1 ? { retry: true, retryAfterMs: 20_000 } : 'ok') });
    t.add();
    t.worker.start();
    await t.at(T0);
    t.add();
    t.worker.kick();
    await t.at(T0 + 19_999);
    expect(t.calls).toHaveLength(1); // the new item waits too
    await t.at(T0 + 20_000);
    expect(t.calls.map((c) => c.id).sort()).toEqual([1, 1, 2]);
  });

  it('parks an item the policy calls poison and goes on with the others; a parked item is not tried again', async () => {
    const t = setup({ answer: (item) => (item.id === 1 ? 'poison' : 'ok') });
    t.add();
    t.add();
    t.worker.start();
    await t.at(T0);
    await t.at(T0 + 1);
    expect(t.outcomes).toEqual([
      { id: 1, outcome: 'poison' },
      { id: 2, outcome: 'ok' },
    ]);
    await t.at(T0 + 3_600_000);
    expect(t.calls).toHaveLength(2);
    expect(t.items.get(1)?.parked).toBe(true);
  });

  it('opens the circuit after the threshold of failures, probes one at a time (half open), and closes on an answer', async () => {
    let mode: 'fail' | 'hang' | 'ok' = 'fail';
    const lane: Lane = { id: 'central', concurrency: 4, backoff: { base: 1_000, max: 60_000 }, circuit: { threshold: 3 } };
    const t = setup({ lanes: [lane], random: () => 0.5, answer: () => (mode === 'fail' ? { retry: true } : mode) });
    for (let i = 0; i < 8; i++) t.add();
    t.worker.start();
    await t.at(T0);
    expect(t.calls).toHaveLength(4); // concurrency 4, all fail
    expect(t.worker.circuitOpen('central')).toBe(true);
    // Open: nothing until the circuit's hold runs out, then one probe; while it hangs, no other request starts.
    mode = 'hang';
    await t.at(T0 + 499);
    expect(t.calls).toHaveLength(4);
    await t.at(T0 + 60_000);
    expect(t.calls).toHaveLength(5);
    expect(t.worker.inFlight()).toBe(1);
    // The probe fails: still open, the next probe comes later (spaced by the circuit's own backoff).
    const probe = [...t.hanging.values()][0];
    t.hanging.clear();
    probe?.reject(new Failed());
    await t.at(T0 + 60_000);
    expect(t.worker.circuitOpen('central')).toBe(true);
    expect(t.calls).toHaveLength(5);
    // The receiver is back: the next probe succeeds, the circuit closes and the lane runs at full concurrency again.
    mode = 'ok';
    for (let ms = 0; t.worker.circuitOpen('central') && ms <= 120_000; ms += 250) await t.at(T0 + 60_000 + ms);
    expect(t.worker.circuitOpen('central')).toBe(false);
    mode = 'hang';
    for (let i = 0; i < 6; i++) t.add();
    t.worker.kick();
    await t.at(t.clock.now() + 60_000);
    expect(t.worker.inFlight()).toBe(4);
    mode = 'ok';
    for (const h of t.hanging.values()) h.resolve();
    await t.at(t.clock.now() + 60_000);
    expect([...t.items.values()].every((i) => i.done)).toBe(true);
  });

  it('wake() makes an open circuit probe at once', async () => {
    const lane: Lane = { id: 'central', concurrency: 2, backoff: { base: 1_000, max: 60_000 }, circuit: { threshold: 1 } };
    let down = true;
    const t = setup({ lanes: [lane], random: () => 0.9, answer: () => (down ? { retry: true } : 'ok') });
    t.add();
    t.worker.start();
    await t.at(T0);
    expect(t.worker.circuitOpen('central')).toBe(true);
    // A person retries the item now (as `andon outbox retry` does) and wakes the worker.
    down = false;
    Object.assign(t.items.get(1) as Item, { nextAttemptAt: T0 + 10 });
    await t.at(T0 + 10);
    expect(t.calls).toHaveLength(1); // held by the open circuit
    t.worker.wake();
    await t.at(T0 + 10);
    expect(t.calls).toHaveLength(2);
    expect(t.worker.circuitOpen('central')).toBe(false);
  });

  it('keeps at most `concurrency` items of a lane in flight, and lanes do not wait for each other', async () => {
    const t = setup({
      lanes: [
        { id: 'a', concurrency: 3, backoff: { base: 1_000, max: 8_000 } },
        { id: 'b', concurrency: 1, backoff: { base: 1_000, max: 8_000 } },
      ],
      answer: () => 'hang',
    });
    for (let i = 0; i < 10; i++) t.add('a');
    t.add('b');
    t.worker.start();
    await t.at(T0);
    expect(t.worker.inFlight()).toBe(4);
    expect(t.calls.map((c) => c.id)).toEqual([1, 2, 3, 11]);
    for (let round = 0; round < 10 && t.hanging.size > 0; round++) {
      for (const [id, h] of [...t.hanging]) {
        t.hanging.delete(id);
        h.resolve();
      }
      await t.at(T0);
      expect(t.worker.inFlight()).toBeLessThanOrEqual(4);
    }
    expect(t.maxInFlight()).toBe(4);
    expect([...t.items.values()].every((i) => i.done)).toBe(true);
    expect(new Set(t.calls.map((c) => c.id)).size).toBe(11); // each once
  });

  it('wakes on new work at once, and finds work it was not told about at the idle check', async () => {
    const t = setup({ idleCheckMs: 30_000 });
    t.worker.start();
    await t.at(T0);
    t.add();
    t.worker.kick();
    await t.at(T0);
    expect(t.calls).toEqual([{ id: 1, at: T0 }]);
    t.add(); // written by another process: nobody kicks
    await t.at(T0 + 29_999);
    expect(t.calls).toHaveLength(1);
    await t.at(T0 + 30_000);
    expect(t.calls).toHaveLength(2);
  });

  it('stop aborts what is in flight: the item stays queued and its outcome is aborted', async () => {
    const t = setup({ answer: () => 'hang' });
    t.add();
    t.worker.start();
    await t.at(T0);
    expect(t.worker.inFlight()).toBe(1);
    await t.worker.stop();
    expect(t.outcomes).toEqual([{ id: 1, outcome: 'aborted' }]);
    expect(t.items.get(1)).toMatchObject({ done: false, parked: false, attempts: 0 });
  });
});
