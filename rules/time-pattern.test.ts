import { describe, expect, it, vi } from 'vitest';
import { circularMean, localParts, MAX_SPREAD_MINUTES, recurrencePattern } from './time-pattern.ts';

const t = (iso: string) => Date.parse(iso);
/** Minutes of a local time of day, "16:00:30" → 960.5. */
const hm = (s: string) => {
  const [h, m, sec] = s.split(':').map(Number) as [number, number, number | undefined];
  return h * 60 + m + (sec ?? 0) / 60;
};
/** Distance between two times of day around the clock, in minutes. */
const around = (a: number, b: number) => {
  const d = Math.abs(a - b) % 1440;
  return Math.min(d, 1440 - d);
};

describe('localParts', () => {
  it('in UTC (and Etc/UTC) gives the parts Intl gives, without Intl: over 2,000 instants from 1970 to 2100', () => {
    const intl = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const spy = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      for (let i = 0; i < 2000; i++) {
        // whole days, day ends and random instants, ms included
        const ms = i % 3 === 0 ? Math.floor(next() * 4.1e12 / 86_400_000) * 86_400_000 : i % 3 === 1 ? Math.floor(next() * 4.1e12 / 86_400_000) * 86_400_000 - 1 : Math.floor(next() * 4.1e12);
        const p = Object.fromEntries(intl.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
        const expected = { date: `${p.year}-${p.month}-${p.day}`, minutes: Number(p.hour) * 60 + Number(p.minute) + Number(p.second) / 60, weekday: p.weekday, day: Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86_400_000 };
        expect(localParts(ms, i % 2 === 0 ? 'UTC' : 'Etc/UTC')).toEqual(expected);
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('gives the date, minutes (with seconds) and weekday in UTC and a whole-hour zone', () => {
    expect(localParts(t('2026-01-20T16:00:30Z'), 'UTC')).toMatchObject({ date: '2026-01-20', minutes: hm('16:00:30'), weekday: 'Tue' });
    expect(localParts(t('2026-01-20T08:00:00Z'), 'Asia/Shanghai')).toMatchObject({ date: '2026-01-20', minutes: hm('16:00'), weekday: 'Tue' });
    // 20:00 UTC is already tomorrow in Shanghai.
    expect(localParts(t('2026-01-20T20:00:00Z'), 'Asia/Shanghai')).toMatchObject({ date: '2026-01-21', minutes: hm('04:00'), weekday: 'Wed' });
  });

  it('midnight is 00:00 of the new day, not 24:00 of the old one', () => {
    expect(localParts(t('2026-01-21T00:00:00Z'), 'UTC')).toMatchObject({ date: '2026-01-21', minutes: 0, weekday: 'Wed' });
    expect(localParts(t('2026-01-20T16:00:00Z'), 'Asia/Shanghai')).toMatchObject({ date: '2026-01-21', minutes: 0, weekday: 'Wed' });
  });

  it('half-hour offsets (Asia/Kolkata, UTC+5:30)', () => {
    expect(localParts(t('2026-01-20T10:30:00Z'), 'Asia/Kolkata')).toMatchObject({ date: '2026-01-20', minutes: hm('16:00'), weekday: 'Tue' });
    expect(localParts(t('2026-01-20T18:29:30Z'), 'Asia/Kolkata')).toMatchObject({ date: '2026-01-20', minutes: hm('23:59:30'), weekday: 'Tue' });
    expect(localParts(t('2026-01-20T18:30:00Z'), 'Asia/Kolkata')).toMatchObject({ date: '2026-01-21', minutes: 0, weekday: 'Wed' });
  });

  it('Europe/Berlin, end of March: 02:00 CET jumps to 03:00 CEST', () => {
    expect(localParts(t('2026-03-29T00:59:00Z'), 'Europe/Berlin')).toMatchObject({ date: '2026-03-29', minutes: hm('01:59'), weekday: 'Sun' });
    expect(localParts(t('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toMatchObject({ date: '2026-03-29', minutes: hm('03:00'), weekday: 'Sun' });
    // 16:00 local is 15:00 UTC the day before and 14:00 UTC from the change on.
    expect(localParts(t('2026-03-28T15:00:00Z'), 'Europe/Berlin').minutes).toBe(hm('16:00'));
    expect(localParts(t('2026-03-29T14:00:00Z'), 'Europe/Berlin').minutes).toBe(hm('16:00'));
  });

  it('Europe/Berlin, end of October: 02:00-03:00 happens twice', () => {
    expect(localParts(t('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toMatchObject({ date: '2026-10-25', minutes: hm('02:30'), weekday: 'Sun' });
    expect(localParts(t('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toMatchObject({ date: '2026-10-25', minutes: hm('02:30'), weekday: 'Sun' });
    expect(localParts(t('2026-10-24T14:00:00Z'), 'Europe/Berlin').minutes).toBe(hm('16:00'));
    expect(localParts(t('2026-10-25T15:00:00Z'), 'Europe/Berlin').minutes).toBe(hm('16:00'));
  });

  it('America/Chicago, second Sunday of March and first Sunday of November', () => {
    expect(localParts(t('2026-03-08T07:59:00Z'), 'America/Chicago')).toMatchObject({ date: '2026-03-08', minutes: hm('01:59'), weekday: 'Sun' });
    expect(localParts(t('2026-03-08T08:00:00Z'), 'America/Chicago')).toMatchObject({ date: '2026-03-08', minutes: hm('03:00'), weekday: 'Sun' });
    expect(localParts(t('2026-11-01T06:30:00Z'), 'America/Chicago')).toMatchObject({ date: '2026-11-01', minutes: hm('01:30'), weekday: 'Sun' });
    expect(localParts(t('2026-11-01T07:30:00Z'), 'America/Chicago')).toMatchObject({ date: '2026-11-01', minutes: hm('01:30'), weekday: 'Sun' });
    // West of UTC the local date is still yesterday.
    expect(localParts(t('2026-03-08T05:59:00Z'), 'America/Chicago')).toMatchObject({ date: '2026-03-07', minutes: hm('23:59'), weekday: 'Sat' });
  });
});

describe('circularMean', () => {
  it('23:50 and 00:10 average to 00:00, not noon', () => {
    expect(around(circularMean([hm('23:50'), hm('00:10')]), 0)).toBeLessThan(1e-6);
    expect(around(circularMean([hm('00:10'), hm('23:50')]), 0)).toBeLessThan(1e-6);
  });

  it('23:00, 23:40 and 00:20 average to 23:40', () => {
    expect(around(circularMean([hm('23:00'), hm('23:40'), hm('00:20')]), hm('23:40'))).toBeLessThan(1e-6);
  });

  it('is the plain mean away from midnight, and always within [0, 1440)', () => {
    expect(circularMean([hm('15:50'), hm('16:10')])).toBeCloseTo(hm('16:00'), 6);
    expect(circularMean([hm('16:00')])).toBeCloseTo(hm('16:00'), 6);
    for (const ms of [[0], [1439], [1430, 10], [1380, 1420], [10, 20]]) {
      const m = circularMean(ms);
      expect(m).toBeGreaterThanOrEqual(0);
      expect(m).toBeLessThan(1440);
    }
  });
});

describe('recurrencePattern', () => {
  it('daily around 16:00 local in Asia/Shanghai, with jitter', () => {
    // 16:00 Shanghai is 08:00 UTC; -2, +3, -3, +1, +2 minutes.
    const times = ['2026-01-20T07:58:00Z', '2026-01-21T08:03:00Z', '2026-01-22T07:57:00Z', '2026-01-23T08:01:00Z', '2026-01-24T08:02:00Z'].map(t);
    expect(recurrencePattern(times, 'Asia/Shanghai')).toEqual({ count: 5, pattern: 'daily', at: '16:00', day: null, spreadMinutes: 2, next: '2026-01-25T16:00:00+08:00' });
    // The same instants are daily around 08:00 in UTC.
    expect(recurrencePattern(times, 'UTC')).toMatchObject({ pattern: 'daily', at: '08:00' });
  });

  it('daily around 16:30 in Asia/Kolkata', () => {
    const times = ['2026-01-20T11:00:00Z', '2026-01-21T11:05:00Z', '2026-01-22T10:55:00Z'].map(t);
    expect(recurrencePattern(times, 'Asia/Kolkata')).toEqual({ count: 3, pattern: 'daily', at: '16:30', day: null, spreadMinutes: 4, next: '2026-01-23T16:30:00+05:30' });
  });

  it('stays daily at the same local time across DST changes (Berlin, Chicago)', () => {
    const berlinMarch = ['2026-03-27T15:00:00Z', '2026-03-28T15:00:00Z', '2026-03-29T14:00:00Z', '2026-03-30T14:00:00Z'].map(t);
    expect(recurrencePattern(berlinMarch, 'Europe/Berlin')).toEqual({ count: 4, pattern: 'daily', at: '16:00', day: null, spreadMinutes: 0, next: '2026-03-31T16:00:00+02:00' });
    // the next one across the change: 16:00 CEST the day after 16:00 CET
    expect(recurrencePattern(berlinMarch.slice(0, 2), 'Europe/Berlin').next).toBe('2026-03-29T16:00:00+02:00');
    const berlinOctober = ['2026-10-24T14:00:00Z', '2026-10-25T15:00:00Z', '2026-10-26T15:00:00Z'].map(t);
    expect(recurrencePattern(berlinOctober, 'Europe/Berlin')).toEqual({ count: 3, pattern: 'daily', at: '16:00', day: null, spreadMinutes: 0, next: '2026-10-27T16:00:00+01:00' });
    // 07:00 in Chicago: 13:00 UTC under CST, 12:00 UTC under CDT.
    const chicago = ['2026-03-07T13:00:00Z', '2026-03-08T12:00:00Z', '2026-03-09T12:00:00Z', '2026-10-31T12:00:00Z', '2026-11-01T13:00:00Z'].map(t);
    expect(recurrencePattern(chicago, 'America/Chicago')).toMatchObject({ pattern: 'daily', at: '07:00', spreadMinutes: 0 });
  });

  it('the same weekday each week is weekly, with the day', () => {
    // Mondays around 07:00 UTC.
    const times = ['2026-01-05T07:02:00Z', '2026-01-12T06:58:00Z', '2026-01-19T07:00:00Z', '2026-01-26T07:04:00Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toEqual({ count: 4, pattern: 'weekly', at: '07:01', day: 'Mon', spreadMinutes: 2, next: '2026-02-02T07:01:00+00:00' });
    // In Shanghai those are Mondays around 15:00.
    expect(recurrencePattern(times, 'Asia/Shanghai')).toMatchObject({ pattern: 'weekly', at: '15:01', day: 'Mon' });
  });

  it('the same weekday but only days apart cannot be weekly', () => {
    // Monday, Wednesday, Friday at 07:00: different days, clustered time: daily.
    const times = ['2026-01-05T07:00:00Z', '2026-01-07T07:00:00Z', '2026-01-09T07:00:00Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toMatchObject({ pattern: 'daily', at: '07:00', day: null });
  });

  it('several episodes on the same day are irregular', () => {
    const times = ['2026-01-20T15:40:00Z', '2026-01-20T16:00:00Z', '2026-01-20T16:20:00Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toMatchObject({ count: 3, pattern: 'irregular', at: null, day: null });
    // Two of four on one day is enough.
    const some = ['2026-01-20T16:00:00Z', '2026-01-21T16:00:00Z', '2026-01-21T16:30:00Z', '2026-01-22T16:00:00Z'].map(t);
    expect(recurrencePattern(some, 'UTC')).toMatchObject({ pattern: 'irregular', at: null });
  });

  it('widely spread times of day are irregular, with no time', () => {
    const times = ['2026-01-20T02:00:00Z', '2026-01-21T09:00:00Z', '2026-01-22T14:00:00Z', '2026-01-23T21:00:00Z'].map(t);
    const r = recurrencePattern(times, 'UTC');
    expect(r).toMatchObject({ count: 4, pattern: 'irregular', at: null, day: null });
    expect(r.spreadMinutes).toBeGreaterThan(MAX_SPREAD_MINUTES);
  });

  it('one episode is irregular with no spread', () => {
    expect(recurrencePattern([t('2026-01-20T16:00:00Z')], 'UTC')).toEqual({ count: 1, pattern: 'irregular', at: null, day: null, spreadMinutes: null, next: null });
  });

  it('times around midnight stay daily, even when two fall on one calendar date', () => {
    // Nightly around 00:00: 23:58 on the 1st, 00:02 on the 3rd (the next night), 23:59 on the 3rd, 00:01 on the 5th.
    const times = ['2026-01-01T23:58:00Z', '2026-01-03T00:02:00Z', '2026-01-03T23:59:00Z', '2026-01-05T00:01:00Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toEqual({ count: 4, pattern: 'daily', at: '00:00', day: null, spreadMinutes: 2, next: '2026-01-06T00:00:00+00:00' });
    // The same around midnight in Shanghai (16:00 UTC).
    const shanghai = ['2026-01-01T15:58:00Z', '2026-01-02T16:02:00Z', '2026-01-03T15:59:00Z'].map(t);
    expect(recurrencePattern(shanghai, 'Asia/Shanghai')).toMatchObject({ pattern: 'daily', at: '00:00' });
  });

  it('a weekly event around midnight stays weekly, on the day of its time', () => {
    // Sunday 23:58, the next Monday 00:03, then Sunday 23:57: the night from Sunday to Monday each week.
    const times = ['2026-01-04T23:58:00Z', '2026-01-12T00:03:00Z', '2026-01-18T23:57:00Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toEqual({ count: 3, pattern: 'weekly', at: '23:59', day: 'Sun', spreadMinutes: 3, next: '2026-01-25T23:59:00+00:00' });
  });

  it('times with seconds around midnight stay daily (no rounding slip onto the wrong night)', () => {
    // 23:57:28 + 2.53 min lands on 1439.999... in floating point; the night must still be the next one.
    const times = ['2026-01-16T23:57:28.255Z', '2026-01-18T00:04:03.731Z', '2026-01-19T00:00:22.456Z', '2026-01-19T23:59:42.716Z', '2026-01-21T00:00:40.000Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toMatchObject({ count: 5, pattern: 'daily', at: '00:00' });
  });

  it('00:30 and 23:30 on one date are two nights around midnight, not two on one day', () => {
    // 00:30 and 23:30 on the same date are a night apart (23 h), around midnight.
    const times = ['2026-01-20T00:30:00Z', '2026-01-20T23:30:00Z'].map(t);
    expect(recurrencePattern(times, 'UTC')).toMatchObject({ pattern: 'daily', at: '00:00' });
  });
});
