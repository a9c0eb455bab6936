import type { Signal, TicketCommand } from '../rules/types.ts';
import { readTime, timeProblem } from './signal-time.ts';
import { ACTIONS } from './tickets/lifecycle.ts';

/**
 * One line of a replay input (contracts §Replay), read: no more than what reading a line needs, so
 * that the thread which reads the file (gateway/replay-reader.ts) loads nothing else.
 */

/** A replay input line (contracts §Replay): a signal, or a person's action on a ticket. */
export type ReplayRecord = { kind: 'signal'; t: number; signal: Signal } | { kind: 'action'; t: number; command: ReplayCommand };
/** A person's action as a replay line gives it. */
export type ReplayCommand = Extract<TicketCommand, { type: 'transition' | 'comment' | 'record' }>;

export type RejectReason = 'json' | 'shape' | 'time' | 'tag' | 'value' | 'quality' | 'action' | 'too-long';

const QUALITIES = new Set(['good', 'uncertain', 'bad']);
/** The longest line read (UTF-16 units); a longer one is rejected as `too-long`. */
export const MAX_LINE = 1_048_576;
const MAX_TAG = 512;
const KNOWN_ACTIONS = new Set<string>([...ACTIONS, 'comment', 'record']);

/**
 * Parses one line; returns the record, or the reason it is rejected. Never throws. A `t` that is not a
 * good time (gateway/signal-time.ts: not a date, before 2000; more than `maxSkew` after `now` when given) is `time`.
 */
export function parseRecord(line: string, now = Infinity, maxSkew = 0): ReplayRecord | { reject: RejectReason } {
  if (line.length > MAX_LINE) return { reject: 'too-long' };
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return { reject: 'json' };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { reject: 'shape' };
  const r = o as Record<string, unknown>;
  const t = readTime(r.t) ?? NaN;
  if (timeProblem(t, now, maxSkew)) return { reject: 'time' };
  if (r.action !== undefined) {
    if (typeof r.action !== 'string' || !KNOWN_ACTIONS.has(r.action)) return { reject: 'action' };
    const { t: _t, action, key, id, by, text, ...fields } = r;
    if (typeof key !== 'string' && typeof id !== 'string') return { reject: 'action' };
    const who = typeof by === 'string' && by !== '' ? by : 'replay';
    if (action === 'comment') {
      if (typeof id !== 'string' || typeof text !== 'string') return { reject: 'action' };
      return { kind: 'action', t, command: { type: 'comment', at: t, id, by: who, text } };
    }
    const target = typeof id === 'string' ? { id } : { key: key as string };
    if (action === 'record') {
      // {"action":"record","key":...,"type":"acceptance","fields":{...}} or {"action":"record","key":...,"record":"R1","items":[...]}
      const { type, fields: recordFields, record, items } = fields;
      if (typeof record === 'string') return { kind: 'action', t, command: { type: 'record', at: t, ...target, by: who, record, items } };
      if (typeof type !== 'string') return { reject: 'action' };
      const given = recordFields !== null && typeof recordFields === 'object' && !Array.isArray(recordFields) ? (recordFields as Record<string, unknown>) : {};
      return { kind: 'action', t, command: { type: 'record', at: t, ...target, by: who, recordType: type, fields: given } };
    }
    return { kind: 'action', t, command: { type: 'transition', at: t, ...target, action, by: who, fields } };
  }
  if (typeof r.tag !== 'string' || r.tag === '' || r.tag.length > MAX_TAG) return { reject: 'tag' };
  const v = r.value;
  if (!(v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) return { reject: 'value' };
  const quality = r.quality ?? 'good';
  if (typeof quality !== 'string' || !QUALITIES.has(quality)) return { reject: 'quality' };
  const signal: Signal = {
    source: typeof r.source === 'string' && r.source !== '' ? r.source : 'replay',
    tag: r.tag,
    value: v,
    quality: quality as Signal['quality'],
    ts: t,
  };
  if (typeof r.asset === 'string' && r.asset !== '') signal.asset = r.asset;
  if (typeof r.severity === 'number' && Number.isFinite(r.severity)) signal.severity = r.severity;
  if (typeof r.message === 'string') signal.message = r.message.slice(0, 1000);
  if (typeof r.unit === 'string' && r.unit !== '') signal.unit = r.unit.slice(0, 32);
  return { kind: 'signal', t, signal };
}
