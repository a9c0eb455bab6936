import type { Logger } from 'pino';
import type { Signal } from '../rules/types.ts';

/**
 * The one check of a timestamp that comes from outside: a signal's `ts`, a
 * replay record's `t`, an alert's `startsAt`/`endsAt`, a change's `at` from
 * central. Every entry point asks `timeProblem`; what it does with a bad time
 * is its own policy (HTTP and replay refuse, protocol sources take the
 * arrival time, sync refuses the change). A time that passes can be turned
 * into an ISO string and stored, so it cannot stop the engine.
 */

/** Times before this are a sender's zero or garbage, not a plant event (2000-01-01T00:00:00Z). */
export const EARLIEST_TIME = Date.UTC(2000, 0, 1);
/** The largest epoch ms a JavaScript Date can hold. */
const MAX_DATE = 8.64e15;

/** Why a time is refused: not a time, not a date JS can hold, before 2000, or too far ahead of the gateway's clock. */
export type TimeProblem = 'unparseable' | 'unrepresentable' | 'too-old' | 'ahead';

/**
 * Reads a timestamp as sent: epoch ms (a number) or an ISO 8601 string.
 * NaN when it is neither; `undefined` stays undefined (absent).
 */
export function readTime(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const fast = utcMillisIso(v);
    if (fast !== undefined) return fast;
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) ? Date.parse(v) : NaN;
  }
  return NaN;
}

/** The digit at `i` of `s`, or NaN. */
const digit = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` (what `Date.prototype.toISOString` writes, and most senders) read from
 * its digits: the same epoch ms as `Date.parse`, at a tenth of its cost (replay reads one per record:
 * `Date.parse` and the pattern test were 6 % of `andon replay`). Undefined for anything else, and for
 * a day after the 28th, an hour of 24 or a year before 1000 (`Date.UTC` reads 0–99 as 1900–1999), which `Date.parse` decides.
 */
export function utcMillisIso(s: string): number | undefined {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84) return undefined; // - - T
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return undefined; // : : . Z
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  const ms = digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22);
  // NaN (a non-digit) fails every comparison
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour <= 23 && minute <= 59 && second <= 59 && year >= 1000 && ms >= 0)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** What is wrong with `t` (epoch ms) at gateway time `now`, or undefined when it is a good time. */
export function timeProblem(t: number, now: number, maxSkew: number): TimeProblem | undefined {
  if (Number.isNaN(t)) return 'unparseable';
  if (!Number.isFinite(t) || Math.abs(t) > MAX_DATE) return 'unrepresentable';
  if (t < EARLIEST_TIME) return 'too-old';
  if (t > now + maxSkew) return 'ahead';
  return undefined;
}

/** A human sentence for a refusal: `ts 1e+300 is not a representable date`. */
export function describeTimeProblem(field: string, raw: unknown, problem: TimeProblem, maxSkew: number): string {
  const shown = typeof raw === 'string' ? `"${raw.slice(0, 64)}"` : String(raw);
  switch (problem) {
    case 'unparseable':
      return `${field} ${shown} is neither epoch ms nor an ISO 8601 time`;
    case 'unrepresentable':
      return `${field} ${shown} is not a representable date`;
    case 'too-old':
      return `${field} ${shown} is before 2000-01-01`;
    case 'ahead':
      return `${field} ${shown} is more than ${maxSkew / 1000}s ahead of the gateway clock (gateway.maxClockSkew)`;
  }
}

const LOG_EVERY_MS = 60_000;

/**
 * For sources that cannot be answered (MQTT, Sparkplug B, OPC UA, Modbus): a
 * signal whose `ts` is bad gets the arrival time instead, is counted per source
 * (`onReplaced`) and logged at most once per source per minute.
 */
export function timeGuard(opts: { maxSkew: number; now: () => number; onReplaced: (source: string) => void; log?: Logger }) {
  const lastLog = new Map<string, number>();
  return (s: Signal): Signal => {
    const now = opts.now();
    const problem = timeProblem(s.ts, now, opts.maxSkew);
    if (!problem) return s;
    opts.onReplaced(s.source);
    const last = lastLog.get(s.source);
    if (last === undefined || now - last >= LOG_EVERY_MS) {
      lastLog.set(s.source, now);
      opts.log?.warn({ source: s.source, tag: s.tag, problem }, `${describeTimeProblem('ts', s.ts, problem, opts.maxSkew)}; the arrival time is used (logged once a minute per source)`);
    }
    return { ...s, ts: now };
  };
}
