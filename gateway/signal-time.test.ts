import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { seeded } from './seeded.ts';
import { readTime, timeGuard, timeProblem, utcMillisIso } from './signal-time.ts';

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

  it('the fast reading of toISOString\'s form gives what Date.parse gives, for every string it takes; the others go to Date.parse', () => {
    const slow = (v: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) ? Date.parse(v) : NaN);
    const random = seeded(7);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const two = (n: number) => String(n).padStart(2, '0');
    const made: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const parts = [
        String(pick([1970, 2000, 2024, 2026, 2100, 9999, 999, 50, 0, Math.floor(random() * 10_000)])).padStart(4, '0'),
        '-', two(pick([1, 2, 4, 9, 11, 12, 0, 13, Math.floor(random() * 100)])),
        '-', two(pick([1, 15, 28, 29, 30, 31, 0, 32, Math.floor(random() * 100)])),
        'T', two(pick([0, 9, 23, 24, 25, Math.floor(random() * 100)])),
        ':', two(pick([0, 30, 59, 60, Math.floor(random() * 100)])),
        ':', two(pick([0, 30, 59, 60, Math.floor(random() * 100)])),
        '.', String(Math.floor(random() * 1000)).padStart(3, '0'), 'Z',
      ];
      let s = parts.join('');
      // now and then one character replaced (a letter, a sign, a space) or the string cut
      if (random() < 0.2) {
        const at = Math.floor(random() * s.length);
        s = s.slice(0, at) + pick(['x', '+', ' ', '/', '9', 'z', ':']) + s.slice(at + 1);
      }
      if (random() < 0.05) s = s.slice(0, Math.floor(random() * s.length));
      made.push(s);
    }
    let fast = 0;
    for (const s of made) {
      expect(Object.is(readTime(s), slow(s)), s).toBe(true);
      if (utcMillisIso(s) !== undefined) fast++;
    }
    expect(fast).toBeGreaterThan(500); // the fast path was really taken (748 of the 20,000)
    expect(utcMillisIso('2026-03-02T08:00:00.000Z')).toBe(NOW);
    for (const s of ['2026-02-29T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-03-02T24:00:00.000Z', '0050-01-01T00:00:00.000Z', '2026-03-02T08:00:00.000+01:00'])
      expect(Object.is(readTime(s), slow(s)), s).toBe(true);
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
