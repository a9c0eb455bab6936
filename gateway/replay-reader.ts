/**
 * `andon replay` reads its input file on a thread of its own, so the rules run on the main thread while
 * the next lines are read and parsed (a replay is two jobs of about the same size: reading + JSON.parse,
 * and the pipeline; on one thread they add up).
 *
 * The reading thread (this module, run as a worker) reads the file, splits it into lines as readline
 * does (`\n`, `\r\n` and a lone `\r` end a line), parses each with parseRecord, and sends the records in
 * batches of typed arrays (transferred, not copied). Tags and sources are sent once each, as strings,
 * then by number: the main thread gets one string per tag (its hash computed once), where a string
 * fresh from JSON.parse costs a hash per lookup (a tag lookup among 64k tags was a quarter of a replay).
 * What the arrays do not hold (string values, asset, severity, message, unit; actions) goes with the
 * batch as objects. Rejected lines are counted here and reported at the end.
 *
 * The reader stays at most WINDOW batches ahead of the main thread (a shared counter of batches taken),
 * so memory does not depend on the file's size.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Signal } from '../rules/types.ts';
import { AndonError } from '../model/errors.ts';
import { MAX_LINE, parseRecord, type RejectReason, type ReplayCommand, type ReplayRecord } from './replay-record.ts';

/** Records per batch. */
const BATCH = 4096;
/** Batches the reader may be ahead of the main thread. */
const WINDOW = 8;
/** Distinct tags and sources sent by number at most; past it a record carries its tag as a string. */
const MAX_NAMES = 262_144;
/**
 * Bytes read (and decoded) at a time. 64 KiB, as a read stream's: a decoded string of 1 MiB is a V8
 * large object (its own mapping, paged in and freed each time), and decoding 94 MB in 1 MiB strings took
 * 0.3 s against 0.05 s in 64 KiB ones, a third of the reading thread's time.
 */
const CHUNK = 1 << 16;
/** What ends a line (readline, crlfDelay: Infinity): `\r\n`, `\n`, or a `\r` followed by anything but `\n`. */
const LINE_END = /\r\n|\n|\r(?=[^\n])/;

const QUALITY = ['good', 'uncertain', 'bad'] as const;
// info bits: 0-1 quality, 2-3 value kind, 4 extra object, 5 action; from bit 8 the source's number + 1 (0: none)
const V_NUMBER = 0;
const V_BOOL = 1;
const V_NULL = 2;
const V_EXTRA = 3;
const HAS_EXTRA = 16;
const ACTION = 32;

interface Batch {
  n: number;
  buf: ArrayBuffer;
  /** Names numbered from `firstName` on, in order. */
  names: string[];
  extras: unknown[];
  /** Bytes of the file read when the batch was sent. */
  bytes: number;
}

interface End {
  end: true;
  lines: number;
  rejected: number;
  rejectedBy: Partial<Record<RejectReason, number>>;
  bytes: number;
}

interface Failed {
  error: string;
}

type FromReader = Batch | End | Failed;

interface ReaderData {
  file: string;
  now: number;
  maxSkew: number;
  maxNames: number;
  taken: SharedArrayBuffer;
}

/** Views of one batch's buffer: line number, time, numeric value, tag number, info bits. */
function views(buf: ArrayBuffer) {
  return {
    t: new Float64Array(buf, 0, BATCH),
    num: new Float64Array(buf, BATCH * 8, BATCH),
    line: new Int32Array(buf, BATCH * 16, BATCH),
    tag: new Int32Array(buf, BATCH * 20, BATCH),
    info: new Int32Array(buf, BATCH * 24, BATCH),
  };
}
const BATCH_BYTES = BATCH * 28;

/** The reading thread. */
function read(data: ReaderData, port: NonNullable<typeof parentPort>): void {
  const taken = new Int32Array(data.taken);
  const names = new Map<string, number>();
  let fresh: string[] = [];
  const nameOf = (s: string): number => {
    let id = names.get(s);
    if (id === undefined) {
      if (names.size >= data.maxNames) return -1;
      id = names.size;
      names.set(s, id);
      fresh.push(s);
    }
    return id;
  };
  const rejectedBy: Partial<Record<RejectReason, number>> = {};
  let rejected = 0;
  let lines = 0;
  let bytes = 0;
  let sent = 0;
  let buf = new ArrayBuffer(BATCH_BYTES);
  let v = views(buf);
  let extras: unknown[] = [];
  let n = 0;
  const flush = () => {
    if (n === 0) return;
    // wait while the main thread is WINDOW batches behind
    for (let behind = sent - Atomics.load(taken, 0); behind >= WINDOW; behind = sent - Atomics.load(taken, 0)) Atomics.wait(taken, 0, sent - behind);
    const batch: Batch = { n, buf, names: fresh, extras, bytes };
    port.postMessage(batch, [buf]);
    sent++;
    buf = new ArrayBuffer(BATCH_BYTES);
    v = views(buf);
    extras = [];
    fresh = [];
    n = 0;
  };
  const take = (rec: ReplayRecord) => {
    const i = n++;
    v.line[i] = lines;
    v.t[i] = rec.t;
    if (rec.kind === 'action') {
      v.info[i] = ACTION | HAS_EXTRA;
      extras.push(rec.command);
    } else {
      const s = rec.signal;
      const tag = nameOf(s.tag);
      const source = nameOf(s.source);
      v.tag[i] = tag;
      let info = QUALITY.indexOf(s.quality);
      const value = s.value;
      let kind = V_EXTRA;
      if (typeof value === 'number') {
        kind = V_NUMBER;
        v.num[i] = value;
      } else if (typeof value === 'boolean') {
        kind = V_BOOL;
        v.num[i] = value ? 1 : 0;
      } else if (value === null) kind = V_NULL;
      info |= kind << 2;
      const extra =
        kind === V_EXTRA || tag === -1 || source === -1 || s.asset !== undefined || s.severity !== undefined || s.message !== undefined || s.unit !== undefined;
      if (extra) {
        info |= HAS_EXTRA;
        extras.push(s);
      }
      // the source's number + 1 (0: not numbered, in the extra object)
      v.info[i] = info | ((source + 1) << 8);
    }
    if (n === BATCH) flush();
  };
  const reject = (why: RejectReason) => {
    rejected++;
    rejectedBy[why] = (rejectedBy[why] ?? 0) + 1;
  };
  const line = (text: string) => {
    lines++;
    if (text.trim() === '') return;
    const rec = parseRecord(text, data.now, data.maxSkew);
    if ('reject' in rec) return reject(rec.reject);
    take(rec);
  };
  // A piece of text between two `\n`: one line, or several where a lone `\r` ends one (readline's crlfDelay: Infinity).
  const piece = (text: string) => {
    if (text.indexOf('\r') === -1) return line(text);
    const parts = text.split('\r');
    // "a\r" + "\n": the `\r` belongs to the `\r\n` that ends the line
    if (parts[parts.length - 1] === '') parts.pop();
    for (const p of parts) line(p);
  };
  const fd = openSync(data.file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    // Inside a line longer than MAX_LINE: it was counted as rejected (too-long) when it passed the bound, and
    // its text is dropped up to its end, so that a file of one huge line (a JSON array given by mistake) is
    // read in bounded memory. A lone `\r` inside the dropped part does not end a line here.
    let skipping = false;
    for (;;) {
      const got = readSync(fd, chunk, 0, CHUNK, null);
      bytes += got;
      if (got === 0) {
        const tail = rest + decoder.end();
        // readline: a last line without its end of line is a line; an empty one is not
        if (tail !== '' && !skipping) piece(tail);
        break;
      }
      const text = rest + decoder.write(chunk.subarray(0, got));
      let from = 0;
      if (skipping) {
        const end = LINE_END.exec(text);
        if (!end) {
          // a `\r` at the very end may be the start of the `\r\n` that ends the line
          rest = text.endsWith('\r') ? '\r' : '';
          continue;
        }
        skipping = false;
        from = end.index + end[0].length;
      }
      for (let nl = text.indexOf('\n', from); nl !== -1; nl = text.indexOf('\n', from)) {
        piece(text.slice(from, nl));
        from = nl + 1;
      }
      rest = from === 0 ? text : text.slice(from);
      if (rest.length > MAX_LINE) {
        // the lines a lone `\r` ended (a `\r` before the last character: no `\n` follows it in `rest`)
        const cut = rest.lastIndexOf('\r', rest.length - 2);
        if (cut !== -1) {
          for (const p of rest.slice(0, cut).split('\r')) line(p);
          rest = rest.slice(cut + 1);
        }
        if (rest.length > MAX_LINE) {
          lines++;
          reject('too-long');
          skipping = true;
          rest = rest.endsWith('\r') ? '\r' : '';
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  flush();
  const end: End = { end: true, lines, rejected, rejectedBy, bytes };
  port.postMessage(end);
}

if (!isMainThread && (workerData as { replayReader?: ReaderData } | undefined)?.replayReader && parentPort) {
  const port = parentPort;
  try {
    read((workerData as { replayReader: ReaderData }).replayReader, port);
  } catch (err) {
    const failed: Failed = { error: (err as Error).message ?? String(err) };
    port.postMessage(failed);
  }
}

/** What the main thread is handed: a record as it was read, with its line number. */
export interface ReadRecord {
  line: number;
  t: number;
  /** The signal, or undefined for an action. */
  signal: Signal | undefined;
  command: ReplayCommand | undefined;
}

export interface ReadTotals {
  lines: number;
  rejected: number;
  rejectedBy: Partial<Record<RejectReason, number>>;
}

/**
 * Starts reading `file` on a thread of its own, at once: the batches read before `records` is called wait
 * for it (at most WINDOW of them). `records` calls `each` for every record in order (the same record
 * object is reused: take what you need from it) and `progress` after each batch with the line number
 * reached and the bytes read; it resolves with the totals at the end, and rejects when the file cannot be
 * read or `each` throws. `stop` ends the thread (always call it).
 */
export function startReader(
  file: string,
  opts: { now: number; maxSkew: number; maxNames?: number },
): {
  records(each: (r: ReadRecord) => void, progress?: (line: number, bytes: number) => void): Promise<ReadTotals>;
  stop(): Promise<void>;
} {
  const taken = new SharedArrayBuffer(4);
  const counter = new Int32Array(taken);
  // the thread runs this very module (the worker branch at its top level): code, so in dist/ next to this file
  // eslint-disable-next-line no-restricted-syntax -- this module itself, not a file that is not code
  const self = import.meta.url;
  const ts = self.endsWith('.ts');
  const data: ReaderData = { file, now: opts.now, maxSkew: opts.maxSkew, maxNames: opts.maxNames ?? MAX_NAMES, taken };
  // The sources (tests, a checkout without dist/) run through tsx, registered in the thread before it loads this file.
  const worker = ts
    ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(self)}); });`, {
        eval: true,
        workerData: { replayReader: data },
      })
    : new Worker(new URL(self), { workerData: { replayReader: data } });
  const waiting: (FromReader | Error)[] = [];
  let handle: ((m: FromReader | Error) => void) | undefined;
  const deliver = (m: FromReader | Error) => (handle ? handle(m) : waiting.push(m));
  worker.on('message', deliver);
  worker.once('error', deliver);
  worker.once('exit', (code) => deliver(new Error(`the replay's reading thread stopped (exit code ${code})`)));
  const names: string[] = [];
  const rec: ReadRecord = { line: 0, t: 0, signal: undefined, command: undefined };
  const batch = (m: Batch, each: (r: ReadRecord) => void) => {
    for (const s of m.names) names.push(s);
    const v = views(m.buf);
    let x = 0;
    for (let i = 0; i < m.n; i++) {
      const info = v.info[i] as number;
      rec.line = v.line[i] as number;
      rec.t = v.t[i] as number;
      if (info & ACTION) {
        rec.signal = undefined;
        rec.command = m.extras[x++] as ReplayCommand;
      } else {
        rec.command = undefined;
        if (info & HAS_EXTRA) {
          const s = m.extras[x++] as Signal;
          const tag = v.tag[i] as number;
          const source = (info >>> 8) - 1;
          // the numbered strings where there are some (one string per tag on this thread)
          if (tag !== -1) {
            s.tag = names[tag] as string;
            s.tagSlot = tag;
          }
          if (source !== -1) s.source = names[source] as string;
          rec.signal = s;
        } else {
          const kind = (info >>> 2) & 3;
          const tag = v.tag[i] as number;
          rec.signal = {
            source: names[(info >>> 8) - 1] as string,
            tag: names[tag] as string,
            value: kind === V_NUMBER ? (v.num[i] as number) : kind === V_BOOL ? v.num[i] === 1 : null,
            quality: QUALITY[info & 3] as Signal['quality'],
            ts: rec.t,
            tagSlot: tag,
          };
        }
      }
      each(rec);
    }
    Atomics.add(counter, 0, 1);
    Atomics.notify(counter, 0);
  };
  return {
    records: (each, progress) =>
      new Promise<ReadTotals>((resolve, reject) => {
        let done = false;
        handle = (m) => {
          if (done) return;
          try {
            if (m instanceof Error) throw m;
            if ('error' in m) throw new AndonError('ANDON_REPLAY_INPUT', `cannot read --input ${file}: ${m.error}`);
            if ('end' in m) {
              done = true;
              resolve({ lines: m.lines, rejected: m.rejected, rejectedBy: m.rejectedBy });
              return;
            }
            batch(m, each);
            progress?.(rec.line, m.bytes);
          } catch (err) {
            done = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        };
        for (const m of waiting.splice(0)) handle(m);
      }),
    stop: async () => {
      handle = () => undefined;
      await worker.terminate();
    },
  };
}
