/**
 * Calendar helpers for the variant generator: local wall-clock time in an
 * IANA timezone <-> UTC instants, with DST gaps and odd offsets (+05:30,
 * +05:45, -03:30) handled by asking Intl, never by hard-coded offsets.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Minutes since local midnight (seconds as a fraction). */
  minutes: number;
  /** `Mon`..`Sun`. */
  weekday: string;
  /** `YYYY-MM-DD`. */
  date: string;
}

/** The wall-clock time of an instant in `tz`. */
export function localTime(ms: number, tz: string): LocalTime {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const [year, month, day, hour, minute, second] = [p.year, p.month, p.day, p.hour, p.minute, p.second] as number[];
  const weekday = DAYS[new Date(Date.UTC(year!, month! - 1, day!)).getUTCDay()] as string;
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second!, minutes: hour! * 60 + minute! + second! / 60, weekday, date };
}

/** Local minus UTC, in ms, at an instant. */
export function offsetMs(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const l = localTime(whole, tz);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - whole;
}

/**
 * The instant of a local wall-clock time in `tz`. Day overflow is fine
 * (`day: 32` is next month). A time inside a DST gap comes out one hour
 * later on the wall clock, like a plant schedule would.
 */
export function zonedToUtc(tz: string, year: number, month: number, day: number, minutesOfDay: number): number {
  const guess = Date.UTC(year, month - 1, day) + Math.round(minutesOfDay * 60_000);
  let t = guess - offsetMs(guess, tz);
  t = guess - offsetMs(t, tz);
  return t;
}

/** The local calendar date `days` after (y, m, d). */
export function addDays(year: number, month: number, day: number, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Local dates (y, m, d) in [from, from + days) on which the UTC offset of `tz` changes. */
export function dstChanges(tz: string, year: number, month: number, day: number, days: number): { year: number; month: number; day: number }[] {
  const out: { year: number; month: number; day: number }[] = [];
  for (let i = 0; i < days; i++) {
    const d = addDays(year, month, day, i);
    const n = addDays(year, month, day, i + 1);
    if (offsetMs(Date.UTC(d.year, d.month - 1, d.day, 0), tz) !== offsetMs(Date.UTC(n.year, n.month - 1, n.day, 0), tz)) out.push(d);
  }
  return out;
}

export const hhmm = (minutes: number): string => {
  const m = ((Math.round(minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** `90000` -> `90s`; picks a unit the config's duration parser reads. */
export function dur(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
