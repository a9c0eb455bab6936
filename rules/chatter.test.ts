import { map } from 'rxjs';
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
