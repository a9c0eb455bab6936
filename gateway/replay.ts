import { asyncScheduler } from 'rxjs';
import type { AndonConfig } from '../config/schema.ts';
import type { Signal } from '../rules/types.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';
import { isAndonError } from '../model/errors.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { TicketStore } from './store/store.ts';
import type { Ticket } from '../model/ticket.ts';
import { seeded } from './seeded.ts';
import { parseRecord, type RejectReason, type ReplayCommand, type ReplayRecord } from './replay-record.ts';
import { startReader } from './replay-reader.ts';

export { parseRecord, type RejectReason, type ReplayRecord };

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
  const latest = opts.now ?? asyncScheduler.now();
  const maxSkew = opts.config.gateway.maxClockSkew;
  // A file is read and parsed on a thread of its own (gateway/replay-reader.ts), from now on, while the store opens.
  const reader = typeof opts.input === 'string' ? startReader(opts.input, { now: latest, maxSkew }) : undefined;
  let store: TicketStore | undefined;
  try {
    store = await TicketStore.open(opts.db ?? ':memory:');
    const summary: ReplaySummary = { lines: 0, signals: 0, actions: 0, rejected: 0, rejectedBy: {}, refused: 0, refusals: [], tickets: 0, merged: 0, seconds: 0 };
    const feed = replaying(opts.config, store, summary);
    const every = opts.progressEvery ?? 100_000;
    if (reader) {
      const onProgress = opts.onProgress;
      let reported = 0;
      const totals = await reader.records(
        (r) => {
          summary.lines = r.line;
          feed(r.t, r.signal, r.command);
        },
        onProgress &&
          ((line, bytes) => {
            const reach = line - (line % every);
            if (reach > reported) onProgress((reported = reach), bytes);
          }),
      );
      summary.lines = totals.lines;
      summary.rejected = totals.rejected;
      summary.rejectedBy = totals.rejectedBy;
    } else {
      for await (const line of opts.input as Exclude<ReplayOptions['input'], string>) {
        summary.lines++;
        if (opts.onProgress && summary.lines % every === 0) opts.onProgress(summary.lines, 0);
        if (line.trim() === '') continue;
        const rec = parseRecord(line, latest, maxSkew);
        if ('reject' in rec) {
          summary.rejected++;
          summary.rejectedBy[rec.reject] = (summary.rejectedBy[rec.reject] ?? 0) + 1;
          continue;
        }
        if (rec.kind === 'signal') feed(rec.t, rec.signal, undefined);
        else feed(rec.t, undefined, rec.command);
      }
    }
    feed.stop();
    const tickets = store.list().items;
    summary.tickets = tickets.length;
    summary.merged = tickets.filter((t) => t.state === 'merged').length;
    summary.seconds = (performance.now() - started) / 1000;
    return { tickets, summary };
  } finally {
    await reader?.stop();
    await store?.close();
  }
}

/**
 * Feeds records, in order, to a runtime in virtual time: the first record starts its clock and every
 * record moves it to the record's `t` (timers fire on the way). Refusals are counted in `summary`, at
 * the line `summary.lines` says.
 */
function replaying(config: AndonConfig, store: TicketStore, summary: ReplaySummary) {
  let scheduler: VirtualScheduler | undefined;
  let runtime: Runtime | undefined;
  const refuse = (code: string, message: string) => {
    summary.refused++;
    if (summary.refusals.length < 100) summary.refusals.push({ line: summary.lines, code, message });
  };
  const feed = (t: number, signal: Signal | undefined, command: ReplayCommand | undefined) => {
    if (!scheduler || !runtime) {
      scheduler = new VirtualScheduler(t);
      runtime = createRuntime({
        config,
        store,
        scheduler,
        random: seeded(0x616e646f),
        expectedSources: config.sources.map((s) => s.id),
        onRefused: (_cmd, err) => refuse(err.code, err.message),
        // A command that fails for another reason (a bug) is dropped by the runtime: the run goes on.
        onDropped: (_cmd, err, code) => refuse(code, (err as Error).message ?? String(err)),
      });
    }
    scheduler.advanceTo(t);
    if (signal) {
      summary.signals++;
      runtime.push(signal);
    } else if (command) {
      summary.actions++;
      try {
        runtime.act({ ...command, at: scheduler.now() });
      } catch (err) {
        if (!isAndonError(err)) throw err;
        refuse(err.code, err.message);
      }
    }
  };
  return Object.assign(feed, { stop: () => runtime?.stop() });
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
