import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { recurrence, type RecurrenceOptions } from './recurrence.ts';
import type { DetectCommand, TicketCommand } from './types.ts';

const S = 1_000;
const MIN = 60_000;
const DAY = 86_400_000;
/** 16:00 in Shanghai (08:00 UTC), a Tuesday. */
const T0 = Date.parse('2026-01-20T08:00:00.000Z');

const A = 'sealer-01/alarm-stop';
const B = 'wrapper-02/alarm-stop';

const detect = (key: string, at: number, flags: string[] = []): DetectCommand => ({
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
  evidence: { tag: `packaging/${key.split('/')[0]}/alarm/E21`, value: true, ts: at },
  flags,
});
const clear = (key: string, at: number): TicketCommand => ({
  type: 'clear',
  at,
  key,
  evidence: { tag: 'packaging/sealer-01/alarm/E21', value: false, ts: at },
});

/** `key:flags:pattern` of a detect, for short expectations. */
const brief = (c: TicketCommand) => {
  if (c.type !== 'detect') return c.type;
  const r = c.recurrence;
  return `${c.key}:${c.flags.join(',') || '-'}${r ? `:${r.count}x ${r.pattern}${r.at ? ` ${r.at}` : ''}` : ''}`;
};

/** The gateway's defaults: 3 episodes in 14 days; raises within a minute are one episode. */
const opts: RecurrenceOptions = { count: 3, within: 14 * DAY, episodeGap: 60 * S, timezone: 'Asia/Shanghai' };

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('recurrence (count: 3, within: 14d, episodeGap: 60s, Asia/Shanghai)', () => {
  it('the third episode within the window is flagged recurring, with the daily pattern', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // 16:00, 16:02 the next day, 15:58 the day after (Shanghai).
      const cmds = cold('a-b-c|', { a: detect(A, T0), b: detect(A, T0 + DAY + 2 * MIN), c: detect(A, T0 + 2 * DAY - 2 * MIN) });
      expectObservable(cmds.pipe(recurrence(opts))).toBe('a-b-c|', {
        a: detect(A, T0),
        b: detect(A, T0 + DAY + 2 * MIN),
        c: { ...detect(A, T0 + 2 * DAY - 2 * MIN), flags: ['recurring'], recurrence: { count: 3, pattern: 'daily', at: '16:00', day: null, spreadMinutes: 2, next: '2026-01-23T16:00:00+08:00' } },
      });
    });
  });

  it('fewer than `count` episodes are not recurring and carry no recurrence', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b|', { a: detect(A, T0), b: detect(A, T0 + DAY) });
      expectObservable(cmds.pipe(recurrence(opts))).toBe('a-b|', { a: detect(A, T0), b: detect(A, T0 + DAY) });
    });
  });

  it('every later raise of a recurring key is flagged too, and the count grows', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c-d-e|', {
        a: detect(A, T0),
        b: detect(A, T0 + DAY),
        c: detect(A, T0 + 2 * DAY),
        d: detect(A, T0 + 2 * DAY + 10 * S),
        e: detect(A, T0 + 3 * DAY),
      });
      expectObservable(cmds.pipe(recurrence(opts), map(brief))).toBe('a-b-c-d-e|', {
        a: `${A}:-`,
        b: `${A}:-`,
        c: `${A}:recurring:3x daily 16:00`,
        // a chatter raise within the third episode: still 3 episodes
        d: `${A}:recurring:3x daily 16:00`,
        e: `${A}:recurring:4x daily 16:00`,
      });
    });
  });

  it('raises closer than `episodeGap` are one episode: chatter is not a recurrence', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Five raises 30 s apart, a chain over two minutes: one episode.
      const cmds = cold('a-b-c-d-e|', {
        a: detect(A, T0),
        b: detect(A, T0 + 30 * S),
        c: detect(A, T0 + 60 * S),
        d: detect(A, T0 + 90 * S),
        e: detect(A, T0 + 120 * S),
      });
      expectObservable(cmds.pipe(recurrence(opts), map(brief))).toBe('a-b-c-d-e|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:-`, d: `${A}:-`, e: `${A}:-` });
    });
  });

  it('raises `episodeGap` apart are separate episodes (several on one day: irregular)', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c|', { a: detect(A, T0), b: detect(A, T0 + 60 * S), c: detect(A, T0 + 120 * S) });
      expectObservable(cmds.pipe(recurrence(opts), map(brief))).toBe('a-b-c|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:recurring:3x irregular` });
    });
  });

  it('episodes older than `within` fall out of the count', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Day 0, day 10, day 14: day 0 is exactly 14 days old at the third, so it no longer counts.
      // Day 15 makes three again (10, 14, 15).
      const cmds = cold('a-b-c-d|', { a: detect(A, T0), b: detect(A, T0 + 10 * DAY), c: detect(A, T0 + 14 * DAY), d: detect(A, T0 + 15 * DAY) });
      expectObservable(cmds.pipe(recurrence(opts), map(brief))).toBe('a-b-c-d|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:-`, d: `${A}:recurring:3x daily 16:00` });
    });
  });

  it('the same weekday each week is weekly', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c|', { a: detect(A, T0), b: detect(A, T0 + 7 * DAY + MIN), c: detect(A, T0 + 14 * DAY - 30 * S) });
      // Within 14 days: the third is 13 days 23:59:30 after the first.
      expectObservable(cmds.pipe(recurrence(opts), map(brief))).toBe('a-b-c|', { a: `${A}:-`, b: `${A}:-`, c: `${A}:recurring:3x weekly 16:00` });
    });
  });

  it('reports the day of a weekly recurrence', () => {
    const ts = newScheduler();
    const out: TicketCommand[] = [];
    ts.run(({ cold, flush }) => {
      cold('a-b-c|', { a: detect(A, T0), b: detect(A, T0 + 7 * DAY), c: detect(A, T0 + 13 * DAY + 23 * 60 * MIN) })
        .pipe(recurrence(opts))
        .subscribe((c) => out.push(c));
      flush();
    });
    // Tuesdays at 16:00, 16:00 and 15:00: around 15:40.
    const last = out[2];
    expect(last?.type === 'detect' && last.recurrence).toEqual({ count: 3, pattern: 'weekly', at: '15:40', day: 'Tue', spreadMinutes: 28, next: '2026-02-10T15:40:00+08:00' });
  });

  it('history seeds the count, so a restart remembers earlier episodes', () => {
    const ts = newScheduler();
    const history = [
      { key: A, asset: 'sealer-01', fault: 'alarm-stop', at: T0 },
      { key: A, asset: 'sealer-01', fault: 'alarm-stop', at: T0 + 20 * S }, // chatter: same episode
      { key: B, asset: 'wrapper-02', fault: 'alarm-stop', at: T0 + MIN },
      { key: A, asset: 'sealer-01', fault: 'alarm-stop', at: T0 + DAY },
    ];
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b|', { a: detect(A, T0 + 2 * DAY), b: detect(B, T0 + 2 * DAY) });
      expectObservable(cmds.pipe(recurrence({ ...opts, history }), map(brief))).toBe('a-b|', { a: `${A}:recurring:3x daily 16:00`, b: `${B}:-` });
    });
  });

  it('history older than the window does not count', () => {
    const ts = newScheduler();
    const history = [
      { key: A, asset: 'sealer-01', fault: 'alarm-stop', at: T0 - 20 * DAY },
      { key: A, asset: 'sealer-01', fault: 'alarm-stop', at: T0 - 15 * DAY },
    ];
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a|', { a: detect(A, T0) });
      expectObservable(cmds.pipe(recurrence({ ...opts, history }), map(brief))).toBe('a|', { a: `${A}:-` });
    });
  });

  it('counts per key: interleaved episodes of two keys do not add up', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c-d-e|', {
        a: detect(A, T0),
        b: detect(B, T0 + DAY),
        c: detect(A, T0 + 2 * DAY),
        d: detect(B, T0 + 3 * DAY),
        e: detect(A, T0 + 4 * DAY),
      });
      expectObservable(cmds.pipe(recurrence(opts), map(brief))).toBe('a-b-c-d-e|', {
        a: `${A}:-`,
        b: `${B}:-`,
        c: `${A}:-`,
        d: `${B}:-`,
        e: `${A}:recurring:3x daily 16:00`,
      });
    });
  });

  it('passes clears through, keeps upstream flags and does not mutate the command', () => {
    const ts = newScheduler();
    const c = detect(A, T0 + 2 * DAY, ['chattering']);
    const x = clear(A, T0 + 10 * S);
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-x-b-c|', { a: detect(A, T0), x, b: detect(A, T0 + DAY), c });
      expectObservable(cmds.pipe(recurrence(opts))).toBe('a-x-b-c|', {
        a: detect(A, T0),
        x,
        b: detect(A, T0 + DAY),
        c: { ...c, flags: ['chattering', 'recurring'], recurrence: expect.objectContaining({ count: 3, pattern: 'daily' }) },
      });
    });
    expect(c.flags).toEqual(['chattering']);
    expect('recurrence' in c).toBe(false);
  });

  it('keeps its log per subscription', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b|', { a: detect(A, T0), b: detect(A, T0 + DAY) }).pipe(recurrence(opts), map(brief));
      expectObservable(cmds).toBe('a-b|', { a: `${A}:-`, b: `${A}:-` });
      expectObservable(cmds).toBe('a-b|', { a: `${A}:-`, b: `${A}:-` });
    });
  });
});
