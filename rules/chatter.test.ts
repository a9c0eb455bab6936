import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { chatter } from './chatter.ts';
import type { DetectCommand, TicketCommand } from './types.ts';

const detect = (key: string, at: number): DetectCommand => ({
  type: 'detect',
  at,
  key,
  asset: key.split('/')[0] as string,
  area: 'packaging',
  line: null,
  fault: key.split('/')[1] as string,
  category: 'hardware',
  rule: 'sealer-alarm',
  priority: 'P1',
  title: key,
  assignedGroup: null,
  notify: [],
  evidence: { tag: 'packaging/sealer-01/alarm/E21', value: true, ts: at },
  flags: [],
});
const clear = (key: string, at: number): TicketCommand => ({ type: 'clear', at, key, evidence: { tag: 'packaging/sealer-01/alarm/E21', value: false, ts: at } });

/** `key:flags` of a command, for short expectations. */
const brief = (c: TicketCommand) => (c.type === 'detect' ? `${c.key}:${c.flags.join(',') || '-'}` : `${c.type}:${'key' in c ? c.key : ''}`);
const A = 'sealer-01/alarm-stop';
const B = 'wrapper-02/alarm-stop';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('chatter (count: 3, within: 60s)', () => {
  const op = chatter({ count: 3, within: 60_000 });

  it('the count-th raise within the window is flagged chattering, and so are the next ones', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, time }) => {
      const t = time('10s|');
      // raises of A at 0, 10s, 20s, 30s
      const cmds = cold('a 9999ms b 9999ms c 9999ms d|', { a: detect(A, 0), b: detect(A, t), c: detect(A, 2 * t), d: detect(A, 3 * t) });
      expectObservable(cmds.pipe(op, map(brief))).toBe('a 9999ms b 9999ms c 9999ms d|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:chattering`, d: `${A}:chattering` });
    });
  });

  it('raises spread wider than the window are not chattering', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a 30s b 30s c|', { a: detect(A, 0), b: detect(A, 30_001), c: detect(A, 60_002) });
      // a and c are 60 002 ms apart: outside the window, so only two count at c.
      expectObservable(cmds.pipe(op, map(brief))).toBe('a 30s b 30s c|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:-` });
    });
  });

  it('a raise exactly `within` after the first no longer counts it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c|', { a: detect(A, 0), b: detect(A, 30_000), c: detect(A, 60_000) });
      expectObservable(cmds.pipe(op, map(brief))).toBe('a-b-c|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:-` });
    });
  });

  it('counts per key: interleaved raises of two keys do not add up', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c-d-e|', { a: detect(A, 0), b: detect(B, 1000), c: detect(A, 2000), d: detect(B, 3000), e: detect(A, 4000) });
      expectObservable(cmds.pipe(op, map(brief))).toBe('a-b-c-d-e|', { a: `${A}:-`, b: `${B}:-`, c: `${A}:-`, d: `${B}:-`, e: `${A}:chattering` });
    });
  });

  it('passes clears and other commands through and does not count them', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const x = clear(A, 500);
      const cmds = cold('a-x-x-b|', { a: detect(A, 0), x, b: detect(A, 1000) });
      expectObservable(cmds.pipe(op)).toBe('a-x-x-b|', { a: detect(A, 0), x, b: detect(A, 1000) });
    });
  });

  it('keeps flags set upstream and does not mutate the command', () => {
    const ts = newScheduler();
    const c = { ...detect(A, 2), flags: ['recurring'] };
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c|', { a: detect(A, 0), b: detect(A, 1), c });
      expectObservable(cmds.pipe(op, map(brief))).toBe('a-b-c|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:recurring,chattering` });
    });
    expect(c.flags).toEqual(['recurring']);
  });

  it('keeps its window per subscription', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b|', { a: detect(A, 0), b: detect(A, 1) }).pipe(op, map(brief));
      expectObservable(cmds).toBe('a-b|', { a: `${A}:-`, b: `${A}:-` });
      expectObservable(cmds).toBe('a-b|', { a: `${A}:-`, b: `${A}:-` });
    });
  });
});

describe('chatter keeps at most `count` times per key', () => {
  /** The operator as it was: every raise within the window kept, the list copied on each raise. */
  const reference = (opts: { count: number; within: number }) => {
    const raises = new Map<string, number[]>();
    return (cmd: DetectCommand): boolean => {
      const times = (raises.get(cmd.key) ?? []).filter((t) => cmd.at - t < opts.within);
      times.push(cmd.at);
      raises.set(cmd.key, times);
      return times.length >= opts.count;
    };
  };

  it('flags the same raises as keeping them all, over a seeded stream with clocks that go back', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const opts of [
      { count: 2, within: 5_000 },
      { count: 3, within: 60_000 },
      { count: 5, within: 10_000 },
    ]) {
      const expected = reference(opts);
      const commands: TicketCommand[] = [];
      let now = 0;
      for (let i = 0; i < 5_000; i++) {
        now += Math.floor((rand() * opts.within) / opts.count); // per key, about as many raises in a window as count
        // a tenth of the raises come from a clock up to 2 windows behind, a few far ahead
        const skew = rand() < 0.1 ? -Math.floor(rand() * 2 * opts.within) : rand() < 0.02 ? Math.floor(rand() * 5 * opts.within) : 0;
        commands.push(rand() < 0.05 ? clear(`k${Math.floor(rand() * 3)}/f`, now) : detect(`k${Math.floor(rand() * 3)}/f`, now + skew));
      }
      const want = commands.map((c) => (c.type === 'detect' ? expected(c) : null));
      const got: (boolean | null)[] = [];
      from(commands)
        .pipe(chatter(opts))
        .subscribe((c) => got.push(c.type === 'detect' ? c.flags.includes('chattering') : null));
      expect(got).toEqual(want);
      expect(want.filter((w) => w === true).length).toBeGreaterThan(100); // the stream does chatter
      expect(want.filter((w) => w === false).length).toBeGreaterThan(100); // and does not
    }
  });
});
