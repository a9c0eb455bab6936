import { asyncScheduler } from 'rxjs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AndonConfig } from '../config/schema.ts';
import type { Signal, TicketCommand } from '../rules/types.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';
import { isAndonError } from '../model/errors.ts';
import { readTime, timeProblem } from './signal-time.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { TicketStore } from './store/store.ts';
import { ACTIONS } from './tickets/lifecycle.ts';
import type { Ticket } from '../model/ticket.ts';
import { seeded } from './seeded.ts';

/** A replay input line (contracts §Replay): a signal, or a person's action on a ticket. */
export type ReplayRecord =
  { kind: 'signal'; t: number; signal: Signal } | { kind: 'action'; t: number; command: Extract<TicketCommand, { type: 'transition' | 'comment' | 'record' }> };

export type RejectReason = 'json' | 'shape' | 'time' | 'tag' | 'value' | 'quality' | 'action' | 'too-long';

const QUALITIES = new Set(['good', 'uncertain', 'bad']);
const MAX_LINE = 1_048_576;
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

export interface ReplaySummary {
  lines: number;
  signals: number;
  actions: number;
  rejected: number;
  rejectedBy: Partial<Record<RejectReason, number>>;
  refused: number;
  refusals: { line: number; code: string; message: string }[];
  tickets: number;
  merged: number;
  seconds: number;
}

export interface ReplayOptions {
  config: AndonConfig;
  /** Path of the JSONL input, or the lines themselves. */
  input: string | AsyncIterable<string> | Iterable<string>;
  /** SQLite file for the store; `:memory:` (default) keeps nothing. */
  db?: string;
  /** Called every `progressEvery` lines with the lines so far and, for a file input, the bytes read from it. */
  onProgress?: (lines: number, bytes: number) => void;
  progressEvery?: number;
  /**
   * The "gateway clock" of this replay (epoch ms): a record dated more than gateway.maxClockSkew after it is
   * refused as `time`, since it would jump the virtual clock past every record behind it. Default: the wall
   * clock when the replay starts (recordings are of the past); synthetic inputs dated ahead pass their end.
   */
  now?: number;
}

/**
 * Replays records in virtual time through the same runtime as a live gateway
 * and returns the final tickets (contracts §Ticket JSON) with a summary. Time is the
 * records' `t`; timers fire as it passes; it ends at the last record.
 */
export async function replay(opts: ReplayOptions): Promise<{ tickets: Ticket[]; summary: ReplaySummary }> {
  const started = performance.now();
  const store = await TicketStore.open(opts.db ?? ':memory:');
  const summary: ReplaySummary = { lines: 0, signals: 0, actions: 0, rejected: 0, rejectedBy: {}, refused: 0, refusals: [], tickets: 0, merged: 0, seconds: 0 };
  let scheduler: VirtualScheduler | undefined;
  let runtime: Runtime | undefined;
  const refuse = (code: string, message: string) => {
    summary.refused++;
    if (summary.refusals.length < 100) summary.refusals.push({ line: summary.lines, code, message });
  };
  const file = typeof opts.input === 'string' ? createReadStream(opts.input) : undefined;
  const lines = file ? createInterface({ input: file, crlfDelay: Infinity }) : (opts.input as Exclude<ReplayOptions['input'], string>);
  const every = opts.progressEvery ?? 100_000;
  const latest = opts.now ?? asyncScheduler.now();
  try {
    for await (const line of lines) {
      summary.lines++;
      if (opts.onProgress && summary.lines % every === 0) opts.onProgress(summary.lines, file?.bytesRead ?? 0);
      if (line.trim() === '') continue;
      const rec = parseRecord(line, latest, opts.config.gateway.maxClockSkew);
      if ('reject' in rec) {
        summary.rejected++;
        summary.rejectedBy[rec.reject] = (summary.rejectedBy[rec.reject] ?? 0) + 1;
        continue;
      }
      if (!scheduler || !runtime) {
        scheduler = new VirtualScheduler(rec.t);
        runtime = createRuntime({
          config: opts.config,
          store,
          scheduler,
          random: seeded(0x616e646f),
          expectedSources: opts.config.sources.map((s) => s.id),
          onRefused: (_cmd, err) => refuse(err.code, err.message),
          // A command that fails for another reason (a bug) is dropped by the runtime: the run goes on.
          onDropped: (_cmd, err, code) => refuse(code, (err as Error).message ?? String(err)),
        });
      }
      scheduler.advanceTo(rec.t);
      if (rec.kind === 'signal') {
        summary.signals++;
        runtime.push(rec.signal);
      } else {
        summary.actions++;
        try {
          runtime.act({ ...rec.command, at: scheduler.now() });
        } catch (err) {
          if (!isAndonError(err)) throw err;
          refuse(err.code, err.message);
        }
      }
    }
    runtime?.stop();
    const tickets = store.list().items;
    summary.tickets = tickets.length;
    summary.merged = tickets.filter((t) => t.state === 'merged').length;
    summary.seconds = (performance.now() - started) / 1000;
    return { tickets, summary };
  } finally {
    await store.close();
  }
}

/** The one-line summary for stderr. */
export function formatSummary(s: ReplaySummary): string {
  const why = Object.entries(s.rejectedBy)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return (
    `replay: ${s.lines} lines, ${s.signals} signals, ${s.actions} actions, ${s.rejected} rejected${why ? ` (${why})` : ''}, ` +
    `${s.refused} refused; ${s.tickets} tickets (${s.merged} merged) in ${s.seconds.toFixed(2)}s`
  );
}
