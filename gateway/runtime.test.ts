import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';
import { monotonicFactory } from 'ulid';
import { createRuntime, cryptoFractions, isStoreFailure } from './runtime.ts';
import { TicketStore } from './store/store.ts';

const config = parseConfig(`
gateway: { id: runtime-test }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`);

describe('runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-runtime-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const failing = (file: string, asset: string) => {
    // Another connection makes the disk "fail" for one asset's ticket.
    const db = new Database(file);
    db.exec(`CREATE TRIGGER fail_insert BEFORE INSERT ON tickets WHEN NEW.asset = '${asset}' BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END`);
    db.close();
    return () => {
      const d = new Database(file);
      d.exec('DROP TRIGGER fail_insert');
      d.close();
    };
  };

  /** A runtime on a store file whose inserts fail for press-9's ticket until `heal()`; closed after `fn`. */
  async function withFailingStore(fn: (g: { store: TicketStore; rt: ReturnType<typeof createRuntime>; clock: VirtualScheduler; failures: unknown[]; heal: () => void; push: (asset: string) => void }) => void, random?: () => number) {
    const file = join(dir, 'andon.sqlite');
    const store = await TicketStore.open(file);
    const heal = failing(file, 'press-9');
    const clock = new VirtualScheduler(Date.parse('2026-02-01T00:00:00Z'));
    const failures: unknown[] = [];
    const rt = createRuntime({ config, store, scheduler: clock, onFailure: (_c, err) => failures.push(err), ...(random ? { random } : {}) });
    const push = (asset: string) => rt.push({ source: 'plc', tag: `press/${asset}/alarm/E1`, value: true, quality: 'good', ts: clock.now() });
    try {
      fn({ store, rt, clock, failures, heal, push });
    } finally {
      rt.stop();
      await store.close();
    }
  }

  it('a store failure reaches whoever pushed the signal; nothing new is committed before the held change', () =>
    withFailingStore(({ store, rt, failures, heal, push }) => {
      expect(() => push('press-9')).toThrow(/simulated/);
      expect(store.list().total).toBe(0);
      expect(rt.held()).toBe(1);
      // While the held change cannot be committed, later signals are refused too (their sender retries).
      expect(() => push('press-1')).toThrow(/simulated/);
      expect(store.list().total).toBe(0);
      heal();
      // The sender's retry of press-1 commits the held press-9 raise first, then its own.
      push('press-1');
      expect(store.list().items.map((t) => t.key).sort()).toEqual(['press-1/alarm-stop', 'press-9/alarm-stop']);
      expect(rt.held()).toBe(0);
      expect(failures).toEqual([]);
    }));

  it('a raise the store refused is not lost when its redelivery finds the rule already active', () =>
    withFailingStore(({ store, heal, push }) => {
      expect(() => push('press-9')).toThrow(/simulated/);
      heal();
      push('press-9'); // the broker redelivers the unacknowledged message
      const t = store.liveByKey('press-9/alarm-stop');
      expect(t?.occurrences).toBe(1);
      expect(t?.history.map((h) => h.action)).toEqual(['opened']);
    }));

  it('a command that fails for a reason other than the store is dropped and counted; the next signal goes through', async () => {
    const store = await TicketStore.open(join(dir, 'andon.sqlite'));
    let failNext = true;
    // A bug, not a store failure (no real store can be made to throw a TypeError): press-9's transaction throws.
    const transaction = store.transaction.bind(store);
    store.transaction = ((fn: Parameters<typeof transaction>[0]) =>
      transaction((tx) => {
        if (tx.liveByKey('press-9/alarm-stop') === undefined && failNext) {
          failNext = false;
          throw new TypeError('a bug');
        }
        return fn(tx);
      })) as typeof store.transaction;
    const clock = new VirtualScheduler(Date.parse('2026-02-01T00:00:00Z'));
    const dropped: [string, unknown, string][] = [];
    const rt = createRuntime({ config, store, scheduler: clock, onDropped: (cmd, err, code) => dropped.push([cmd.type, err, code]) });
    try {
      rt.push({ source: 'plc', tag: 'press/press-9/alarm/E1', value: true, quality: 'good', ts: clock.now() });
      expect(dropped).toEqual([['detect', new TypeError('a bug'), 'ANDON_INTERNAL']]);
      expect(rt.held()).toBe(0);
      rt.push({ source: 'plc', tag: 'press/press-1/alarm/E1', value: true, quality: 'good', ts: clock.now() });
      expect(store.liveByKey('press-1/alarm-stop')?.state).toBe('open');
    } finally {
      rt.stop();
      await store.close();
    }
  });

  it('a signal time no Date can hold does not stop the engine: the evidence takes the command time', () =>
    withFailingStore(({ store, rt, clock }) => {
      rt.push({ source: 'plc', tag: 'press/press-2/alarm/E1', value: true, quality: 'good', ts: 1e300 });
      expect(store.liveByKey('press-2/alarm-stop')?.evidence[0]?.ts).toBe(new Date(clock.now()).toISOString());
      expect(rt.held()).toBe(0);
    }));

  it('classifies store failures: SQLite busy, I/O, full, read-only and corrupt are held; a bug or a constraint is not', () => {
    const sqlite = (code: string) => Object.assign(new Error(code), { name: 'SqliteError', code });
    for (const code of ['SQLITE_BUSY', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CORRUPT', 'SQLITE_CONSTRAINT_TRIGGER']) expect(isStoreFailure(sqlite(code)), code).toBe(true);
    for (const err of [sqlite('SQLITE_CONSTRAINT_UNIQUE'), new RangeError('Invalid time value'), new TypeError('x'), 'text']) expect(isStoreFailure(err)).toBe(false);
  });

  it('held changes are committed by a retry timer when no signal comes', () =>
    withFailingStore(({ store, rt, clock, failures, heal, push }) => {
      expect(() => push('press-9')).toThrow(/simulated/);
      clock.advanceTo(clock.now() + 1_000); // the first retry fails too (and is reported)
      expect(failures).toHaveLength(1);
      heal();
      clock.advanceTo(clock.now() + 2_000);
      expect(rt.held()).toBe(0);
      expect(store.liveByKey('press-9/alarm-stop')?.state).toBe('open');
    }));

  it('held changes are retried with the one backoff formula: exponential, equal jitter, from the injected random source', () =>
    withFailingStore(
      ({ rt, clock, failures, heal, push }) => {
        const t0 = clock.now();
        expect(() => push('press-9')).toThrow(/simulated/);
        // random 0: half of each ceiling (1 s, 2 s, 4 s): retries at +0.5 s, +1.5 s, +3.5 s.
        for (const [at, n] of [[499, 0], [500, 1], [1_499, 1], [1_500, 2], [3_499, 2], [3_500, 3]] as const) {
          clock.advanceTo(t0 + at);
          expect(failures, `at +${at} ms`).toHaveLength(n);
        }
        heal();
        clock.advanceTo(t0 + 3_500 + 4_000);
        expect(rt.held()).toBe(0);
      },
      () => 0,
    ));
});

describe('cryptoFractions (the ULIDs\' randomness)', () => {
  it('gives fractions in [0, 1) in steps of 1/256, over several refills, not the same from two sources', () => {
    const a = cryptoFractions();
    const seen = new Set<number>();
    const first: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const f = a();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      expect(Number.isInteger(f * 256)).toBe(true);
      seen.add(f);
      if (i < 32) first.push(f);
    }
    // 2,000 draws over 256 values: all but a handful come up
    expect(seen.size).toBeGreaterThan(240);
    const b = cryptoFractions();
    expect(Array.from({ length: 32 }, () => b())).not.toEqual(first);
  });

  it('makes distinct, well-formed ULIDs', () => {
    const ulid = monotonicFactory(cryptoFractions());
    const ids = Array.from({ length: 1_000 }, (_, i) => ulid(1_700_000_000_000 + (i % 3) * 1000));
    expect(new Set(ids).size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
