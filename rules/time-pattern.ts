import { isUtcZone } from '../config/types.ts';
import type { Recurrence } from './types.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

export interface LocalParts {
  date: string;
  /** Minutes since local midnight (fractional). */
  minutes: number;
  weekday: string;
  /** The local date as days since 1970-01-01, for date arithmetic. */
  day: number;
}

// Episode starts never change, and recurrence asks about the same ones on every raise:
// Intl formatting is the expensive part, so remember it (bounded).
const cache = new Map<string, LocalParts>();
const CACHE_MAX = 100_000;

/** Local calendar parts of an instant in an IANA timezone. */
export function localParts(ms: number, timezone: string): LocalParts {
  const id = `${timezone}|${ms}`;
  const hit = cache.get(id);
  if (hit) return hit;
  if (cache.size >= CACHE_MAX) cache.clear();
  const parts = formatParts(ms, timezone);
  cache.set(id, parts);
  return parts;
}

function formatParts(ms: number, timezone: string): LocalParts {
  if (isUtcZone(timezone)) {
    // the same parts Intl gives for UTC (whole seconds), without loading its zone data
    const d = new Date(ms);
    const day = Math.floor(ms / 86_400_000);
    const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    return { date, minutes: d.getUTCHours() * 60 + d.getUTCMinutes() + d.getUTCSeconds() / 60, weekday: DAYS[d.getUTCDay()] as string, day };
  }
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    formatters.set(timezone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const day = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86_400_000;
  return { date: `${p.year}-${p.month}-${p.day}`, minutes: Number(p.hour) * 60 + Number(p.minute) + Number(p.second) / 60, weekday: p.weekday as string, day };
}

const DAY_MIN = 1440;
const hhmm = (minutes: number) => {
  const m = ((Math.round(minutes) % DAY_MIN) + DAY_MIN) % DAY_MIN;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** Circular mean of times of day (minutes), so 23:50 and 00:10 average to 00:00. */
export function circularMean(minutes: number[]): number {
  let s = 0;
  let c = 0;
  for (const m of minutes) {
    const a = (m / DAY_MIN) * 2 * Math.PI;
    s += Math.sin(a);
    c += Math.cos(a);
  }
  const mean = (Math.atan2(s, c) / (2 * Math.PI)) * DAY_MIN;
  return (mean + DAY_MIN) % DAY_MIN;
}

const circularDiff = (a: number, b: number) => {
  const d = Math.abs(a - b) % DAY_MIN;
  return Math.min(d, DAY_MIN - d);
};

/** Minutes from time of day `from` to `to` the short way round, in [-720, 720). */
const signedDiff = (from: number, to: number) => ((((to - from) % DAY_MIN) + DAY_MIN * 1.5) % DAY_MIN) - DAY_MIN / 2;

/** How tight times of day must cluster (RMS minutes) to call a pattern daily or weekly. */
export const MAX_SPREAD_MINUTES = 60;

/**
 * The pattern in episode start times: `daily` around a time of day (on
 * different days), `weekly` (same weekday, a week or more apart), or
 * `irregular`. Times of day are local to `timezone`.
 */
export function recurrencePattern(times: number[], timezone: string): Recurrence {
  const parts = times.map((t) => localParts(t, timezone));
  const mean = circularMean(parts.map((p) => p.minutes));
  const spread = Math.sqrt(parts.reduce((s, p) => s + circularDiff(p.minutes, mean) ** 2, 0) / Math.max(1, parts.length));
  // Date and weekday of each episode taken at the cluster's time of day, so a
  // cluster around midnight (23:58, then 00:02 on the next date but one) is one
  // a day, not two on one date.
  const meanMinute = Math.round(mean) % DAY_MIN;
  const cycles = parts.map((p) => {
    // p.minutes + signedDiff is meanMinute + k days (k = -1, 0 or +1); round, as floor would slip on 1439.999...
    const shift = Math.round((p.minutes + signedDiff(p.minutes, meanMinute) - meanMinute) / DAY_MIN);
    return { day: p.day + shift, weekday: DAYS[(DAYS.indexOf(p.weekday as (typeof DAYS)[number]) + shift + 7) % 7] as string };
  });
  const days = new Set(cycles.map((p) => p.day));
  const base = { count: times.length, spreadMinutes: Math.round(spread) };
  if (times.length < 2 || spread > MAX_SPREAD_MINUTES || days.size < times.length) {
    return { ...base, pattern: 'irregular', at: null, day: null, spreadMinutes: times.length < 2 ? null : base.spreadMinutes, next: null };
  }
  const last = Math.max(...times);
  const weekdays = new Set(cycles.map((p) => p.weekday));
  const sorted = [...times].sort((a, b) => a - b);
  const weekApart = sorted.every((t, i) => i === 0 || t - (sorted[i - 1] as number) >= 6 * 86_400_000);
  if (weekdays.size === 1 && weekApart) {
    const day = DAYS.find((d) => d === cycles[0]?.weekday) ?? null;
    return { ...base, pattern: 'weekly', at: hhmm(mean), day, next: nextAt(last, meanMinute, timezone, day) };
  }
  return { ...base, pattern: 'daily', at: hhmm(mean), day: null, next: nextAt(last, meanMinute, timezone, null) };
}

const MINUTE = 60_000;

/** Minutes the zone is ahead of UTC at `ms`. */
const offsetMinutes = (ms: number, timezone: string) => {
  const p = localParts(ms, timezone);
  return Math.round(p.day * DAY_MIN + p.minutes - ms / MINUTE);
};

/** The instant of local day `day` (days since 1970-01-01) at `minute` past local midnight in `timezone`. */
export function localInstant(day: number, minute: number, timezone: string): number {
  const guess = (day * DAY_MIN + minute) * MINUTE;
  const first = guess - offsetMinutes(guess, timezone) * MINUTE;
  return guess - offsetMinutes(first, timezone) * MINUTE;
}

/** `2026-05-08T16:00:00+02:00`: an instant as ISO 8601 local time in `timezone`, with its UTC offset. */
export function localIso(ms: number, timezone: string): string {
  const off = offsetMinutes(ms, timezone);
  const local = new Date(ms + off * MINUTE).toISOString().slice(0, 19);
  const a = Math.abs(off);
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** The expected time one period after `r.next` (daily: the next day, weekly: the next week), at `r.at` local time. */
export function followingNext(r: Recurrence, timezone: string): string | null {
  if (r.next === null || r.at === null || r.pattern === 'irregular') return null;
  const [h, m] = r.at.split(':').map(Number) as [number, number];
  return nextAt(Date.parse(r.next), h * 60 + m, timezone, r.pattern === 'weekly' ? r.day : null);
}

/**
 * The next time of a daily (weekly: on `weekday`) pattern at `minute` local time: the first such time more than
 * half a period after the newest episode `last` (so an episode a little late is not "next" again the same day).
 */
function nextAt(last: number, minute: number, timezone: string, weekday: string | null): string {
  const half = (weekday === null ? 0.5 : 3.5) * 86_400_000;
  const start = localParts(last, timezone).day;
  for (let d = start; d <= start + 15; d++) {
    // 1970-01-01 was a Thursday
    if (weekday !== null && DAYS[(((d + 4) % 7) + 7) % 7] !== weekday) continue;
    const t = localInstant(d, minute, timezone);
    if (t > last + half) return localIso(t, timezone);
  }
  return localIso(last + 2 * half, timezone);
}
