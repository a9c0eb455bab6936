import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readTime, timeGuard, timeProblem } from './signal-time.ts';

const NOW = Date.parse('2026-03-02T08:00:00Z');
const SKEW = 300_000;

describe('signal time', () => {
  it('a time is good from 2000-01-01 to maxClockSkew ahead of the gateway clock', () => {
    expect(timeProblem(NOW, NOW, SKEW)).toBeUndefined();
    expect(timeProblem(Date.UTC(2000, 0, 1), NOW, SKEW)).toBeUndefined();
    expect(timeProblem(NOW + SKEW, NOW, SKEW)).toBeUndefined();
    expect(timeProblem(NOW + SKEW + 1, NOW, SKEW)).toBe('ahead');
    expect(timeProblem(Date.UTC(2000, 0, 1) - 1, NOW, SKEW)).toBe('too-old');
    expect(timeProblem(-1, NOW, SKEW)).toBe('too-old');
    for (const t of [1e300, -1e300, Infinity, 8.64e15 + 1]) expect(timeProblem(t, NOW, SKEW)).toBe('unrepresentable');
    expect(timeProblem(NaN, NOW, SKEW)).toBe('unparseable');
  });

  it('reads epoch ms and ISO 8601; anything else is NaN, absent stays absent', () => {
    expect(readTime('2026-03-02T08:00:00Z')).toBe(NOW);
    expect(readTime(NOW)).toBe(NOW);
    expect(readTime(undefined)).toBeUndefined();
    for (const v of ['yesterday', '2026-03-02', '2026-13-45T99:99', {}, true]) expect(readTime(v)).toBeNaN();
  });

  it('a protocol source\'s bad time becomes the arrival time, counted each time and logged once a minute per source', () => {
    let now = NOW;
    const counted: string[] = [];
    const lines: unknown[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const guard = timeGuard({ maxSkew: SKEW, now: () => now, onReplaced: (s) => counted.push(s), log });
    const s = { source: 'plc', tag: 'a/b/alarm', value: true, quality: 'good' as const };
    expect(guard({ ...s, ts: NOW - 5 }).ts).toBe(NOW - 5);
    expect(guard({ ...s, ts: 1e300 }).ts).toBe(NOW);
    now += 30_000;
    expect(guard({ ...s, ts: 0 }).ts).toBe(now);
    expect(guard({ ...s, source: 'mes', ts: 0 }).ts).toBe(now);
    now += 60_000;
    guard({ ...s, ts: 0 });
    expect(counted).toEqual(['plc', 'plc', 'mes', 'plc']);
    expect(lines.map((l) => (l as { source: string }).source)).toEqual(['plc', 'mes', 'plc']);
  });
});
