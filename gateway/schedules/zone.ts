/**
 * Local wall time in an IANA timezone, with Intl (UTC without it: no zone data to load; what gateway.timezone is checked with, and what the
 * recurrence rules use): an instant's local calendar day, and the instant of a local day and time of day.
 */

import { isUtcZone } from '../../config/types.ts';

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timezone, f);
  }
  return f;
}

/** The local wall time of an instant as if it were UTC: epoch ms of the same Y-M-D h:m:s (milliseconds dropped). */
function wallMs(ms: number, timezone: string): number {
  const p: Record<string, string> = {};
  for (const x of formatter(timezone).formatToParts(new Date(ms))) p[x.type] = x.value;
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/** The timezone's offset from UTC at an instant, ms (Europe/Berlin in summer: 7,200,000). */
export function offsetAt(ms: number, timezone: string): number {
  if (isUtcZone(timezone)) return 0;
  const whole = Math.floor(ms / 1000) * 1000;
  return wallMs(whole, timezone) - whole;
}

/** The local calendar day of an instant, as days since 1970-01-01. */
export function localDay(ms: number, timezone: string): number {
  return Math.floor((ms + offsetAt(ms, timezone)) / DAY_MS);
}

/** Monday 0 … Sunday 6 of a day number (1970-01-01 was a Thursday). */
export const weekday = (day: number): number => (((day + 3) % 7) + 7) % 7;

/**
 * The instant of local time `minute` (minutes since midnight) on local `day` (days since 1970-01-01).
 * As Temporal's "compatible": a time the clocks skip (spring forward) is the instant after the skip
 * (02:30 → 03:30 summer time), a time that happens twice (fall back) is the first of the two.
 */
export function instantOf(day: number, minute: number, timezone: string): number {
  const wall = day * DAY_MS + minute * 60_000;
  // the offsets a day either side: DST changes are months apart, so at most one lies between them
  const before = offsetAt(wall - DAY_MS, timezone);
  const after = offsetAt(wall + DAY_MS, timezone);
  const early = wall - before;
  if (before === after) return early;
  const late = wall - after;
  const fits = (t: number) => t + offsetAt(t, timezone) === wall;
  const a = fits(early);
  const b = fits(late);
  if (a && b) return Math.min(early, late);
  if (a) return early;
  if (b) return late;
  // in the gap: the wall time read with the offset before the change is the instant just after it
  return early;
}
