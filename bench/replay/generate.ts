import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MEASURES, meterOf, plant, plantConfigYaml, plcOf, type AnalogMeasure, type Limit, type Tag } from './plant.ts';

/**
 * Writes the benchmark input: a deterministic (seeded) JSONL stream of signal
 * records (contracts §Replay) over the 10,000 tags of `plant.ts`, in time order, and
 * the matching bench/replay/config.yaml. Each tag reports on its own period
 * (±20 % jitter) and at once when its value changes state (report by
 * exception); onto that normal noise the plan below lays the episodes that
 * make tickets: threshold excursions (some hovering in the deadband), short
 * spikes the on-delay swallows, voltage sags across whole areas, machine
 * faults, chattering alarms, stuck sensors, broken sensors (bad quality) and
 * silent sources.
 *
 *   node --import tsx bench/replay/generate.ts [--records 1000000]
 */

export const SEED = 0x616e646f;
export const RECORDS = 1_000_000;
export const START = Date.parse('2026-03-02T05:00:00.000Z');

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_INPUT = join(here, 'out', 'signals.jsonl');
export const CONFIG_FILE = join(here, 'config.yaml');
export const metaFile = (input: string) => input.replace(/\.jsonl$/, '') + '.meta.json';

const SEC = 1000;
const MIN = 60 * SEC;
/** Report period while a value is out of its normal band (report by exception). */
const FAST = 15 * SEC;
const SPIKE_FAST = 5 * SEC;

/** mulberry32 with a Box-Muller normal. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const between = (lo: number, hi: number) => lo + (hi - lo) * next();
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, between, gauss, int: (lo: number, hi: number) => Math.floor(between(lo, hi + 1)) };
}
type Rng = ReturnType<typeof prng>;

type Episode =
  | { kind: 'excursion'; start: number; end: number; limit: Limit; dir: 1 | -1; peak: number; hover: boolean }
  | { kind: 'spike'; start: number; end: number; peak: number }
  | { kind: 'stuck'; start: number; end: number; value: number | null }
  | { kind: 'bad'; start: number; end: number }
  | { kind: 'on'; start: number; end: number };

export interface Plan {
  episodes: (Episode[] | undefined)[];
  silences: { source: string; from: number; to: number }[];
  counts: Record<string, number>;
}

/** A hash of the generator's own sources: run.ts regenerates when the plant or the generator changed. */
export const generatorHash = () =>
  createHash('sha256')
    .update(['generate.ts', 'plant.ts'].map((f) => readFileSync(join(here, f), 'utf8')).join('\0'))
    .digest('hex')
    .slice(0, 16);

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Lays the episodes over the expected span; overlapping episodes of one tag are dropped. */
function planEpisodes(tags: Tag[], rng: Rng, span: number): Plan {
  const lists: Episode[][] = tags.map(() => []);
  const counts: Record<string, number> = {};
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const from = START + 10 * MIN;
  const to = START + span - 20 * MIN;
  const when = (length: number) => rng.between(from, to - length);

  tags.forEach((tag, i) => {
    const me = tag.measure;
    const list = lists[i] as Episode[];
    if (me.kind === 'boolean') {
      const p = me.name === 'alarm/fault' ? 0.4 : 0.03;
      let faults = rng.next() < p ? (rng.next() < 0.3 ? 2 : 1) : 0;
      while (faults-- > 0) {
        const len = rng.between(1 * MIN, 25 * MIN);
        const start = when(len);
        list.push({ kind: 'on', start, end: start + len });
        count(`${me.fault} episodes`);
      }
      return;
    }
    const limits = [me.high && { limit: me.high, dir: 1 as const }, me.low && { limit: me.low, dir: -1 as const }].filter((l) => !!l);
    const u = rng.next();
    if (u < 0.05) {
      // sustained excursion(s) across a limit: a ticket, then (mostly) a clear
      const n = rng.next() < 0.15 ? 2 : 1;
      for (let k = 0; k < n; k++) {
        const { limit, dir } = limits[rng.int(0, limits.length - 1)] as { limit: Limit; dir: 1 | -1 };
        const len = limit.forMs + rng.between(3 * MIN, 35 * MIN);
        const start = when(len);
        const peak = limit.trip + dir * Math.abs(limit.trip - me.mean) * rng.between(0.05, 0.25);
        list.push({ kind: 'excursion', start, end: start + len, limit, dir, peak, hover: rng.next() < 0.5 });
        count('excursions');
      }
    } else if (u < 0.1) {
      // a spike shorter than the on-delay: no ticket (rules with for: 0s get none)
      const spiky = limits.filter((l) => l.limit.forMs >= 30 * SEC);
      if (spiky.length > 0) {
        const { limit, dir } = spiky[rng.int(0, spiky.length - 1)] as { limit: Limit; dir: 1 | -1 };
        const len = limit.forMs * rng.between(0.2, 0.6);
        const start = when(len);
        list.push({ kind: 'spike', start, end: start + len, peak: limit.trip + dir * Math.abs(limit.trip - me.mean) * 0.1 });
        count('spikes (swallowed by on-delay)');
      }
    }
  });

  // Chattering alarms: a loose contact toggles a fault every few seconds for minutes.
  const faults = tags.flatMap((t, i) => (t.measure.name === 'alarm/fault' ? [i] : []));
  for (let k = 0; k < 12; k++) {
    const i = faults[rng.int(0, faults.length - 1)] as number;
    const len = rng.between(3 * MIN, 6 * MIN);
    let t = when(len);
    const end = t + len;
    const list = lists[i] as Episode[];
    list.length = 0; // this tag only chatters
    while (t < end) {
      const on = rng.between(2 * SEC, 8 * SEC);
      list.push({ kind: 'on', start: t, end: t + on });
      t += on + rng.between(3 * SEC, 12 * SEC);
    }
    count('chattering alarm bursts');
  }

  // Voltage sags across a whole area (a big motor or a freezer plant starting on the feeder).
  for (let k = 0; k < 3; k++) {
    const area = rng.int(0, 19);
    const start = when(5 * MIN);
    tags.forEach((t, i) => {
      if (t.asset.areaIndex !== area || t.measure.name !== 'voltage') return;
      const len = rng.between(40 * SEC, 90 * SEC);
      const limit = (t.measure as AnalogMeasure).low as Limit;
      const s = start + rng.between(0, 5 * SEC);
      (lists[i] as Episode[]).push({ kind: 'excursion', start: s, end: s + len, limit, dir: -1, peak: rng.between(188, 200), hover: false });
    });
    count('area-wide voltage sags');
  }

  // Stuck sensors (a frozen value for 40-100 min) and broken ones (bad quality for 10-30 min).
  const watched = tags.flatMap((t, i) => (t.measure.kind === 'analog' && t.measure.stuckRule ? [i] : []));
  for (let k = 0; k < 25; k++) {
    const i = watched[rng.int(0, watched.length - 1)] as number;
    const len = rng.between(40 * MIN, 100 * MIN);
    const start = when(len);
    (lists[i] as Episode[]).push({ kind: 'stuck', start, end: start + len, value: null });
    count('stuck sensors');
  }
  for (let k = 0; k < 10; k++) {
    const i = rng.int(0, tags.length - 1);
    if (tags[i]?.measure.kind !== 'analog') continue;
    const len = rng.between(10 * MIN, 30 * MIN);
    const start = when(len);
    (lists[i] as Episode[]).push({ kind: 'bad', start, end: start + len });
    count('broken sensors (bad quality)');
  }

  const episodes = lists.map((list) => {
    if (list.length === 0) return undefined;
    list.sort((a, b) => a.start - b.start);
    const kept: Episode[] = [];
    for (const e of list) {
      const prev = kept[kept.length - 1];
      const gap = e.kind === 'on' && prev?.kind === 'on' ? 0 : 5 * MIN;
      if (!prev || e.start >= prev.end + gap) kept.push(e);
    }
    return kept;
  });
  const silences = [
    { source: plcOf('cooling'), from: START + 2 * 3_600_000, to: START + 2 * 3_600_000 + 15 * MIN },
    { source: meterOf(15), from: START + 3.5 * 3_600_000, to: START + 3.5 * 3_600_000 + 6 * MIN },
    { source: plcOf('labeling'), from: START + 1 * 3_600_000, to: START + 1 * 3_600_000 + 90 * SEC }, // a blip: no ticket
  ];
  return { episodes, silences, counts };
}

/** A min-heap of (time, tag index); ties go to the lower index so the order is deterministic. */
class TimeHeap {
  private readonly t: Float64Array;
  private readonly ix: Int32Array;
  size = 0;
  constructor(n: number) {
    this.t = new Float64Array(n);
    this.ix = new Int32Array(n);
  }
  private less(a: number, b: number) {
    const ta = this.t[a] as number;
    const tb = this.t[b] as number;
    return ta < tb || (ta === tb && (this.ix[a] as number) < (this.ix[b] as number));
  }
  private swap(a: number, b: number) {
    const t = this.t[a] as number;
    this.t[a] = this.t[b] as number;
    this.t[b] = t;
    const i = this.ix[a] as number;
    this.ix[a] = this.ix[b] as number;
    this.ix[b] = i;
  }
  push(time: number, index: number) {
    let i = this.size++;
    this.t[i] = time;
    this.ix[i] = index;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Takes the earliest entry: its index, with its time in `topTime`. */
  pop(): number {
    const index = this.ix[0] as number;
    this.topTime = this.t[0] as number;
    this.size--;
    this.t[0] = this.t[this.size] as number;
    this.ix[0] = this.ix[this.size] as number;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (l + 1 < this.size && this.less(l + 1, m)) m = l + 1;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return index;
  }
  topTime = 0;
}

export interface GenerateResult {
  file: string;
  records: number;
  from: string;
  to: string;
  seconds: number;
  counts: Record<string, number>;
}

/** Writes `records` lines to `out` (atomically: a .tmp file renamed at the end) and the config. */
export async function generate(opts: { records?: number; out?: string; config?: string } = {}): Promise<GenerateResult> {
  const started = performance.now();
  const records = opts.records ?? RECORDS;
  const out = opts.out ?? DEFAULT_INPUT;
  const rng = prng(SEED);
  const { assets, tags } = plant();
  writeFileSync(opts.config ?? CONFIG_FILE, plantConfigYaml(assets));

  const rate = tags.reduce((sum, t) => sum + 1 / t.measure.period, 0);
  const plan = planEpisodes(tags, rng, records / rate);
  const offset = tags.map(() => rng.gauss()); // each machine runs a little warmer or cooler
  const cursor = new Int32Array(tags.length);
  const heap = new TimeHeap(tags.length);
  tags.forEach((t, i) => heap.push(Math.round(START + rng.next() * t.measure.period), i));

  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  const ws = createWriteStream(tmp, { highWaterMark: 1 << 20 });
  let chunk: string[] = [];
  let written = 0;
  let last = START;
  const quality = { bad: 0, uncertain: 0 };

  while (written < records) {
    const i = heap.pop();
    const t = heap.topTime;
    const tag = tags[i] as Tag;
    const me = tag.measure;
    const list = plan.episodes[i];
    let p = cursor[i] as number;
    while (list && p < list.length && (list[p] as Episode).end <= t) p++;
    cursor[i] = p;
    const ep = list && p < list.length && (list[p] as Episode).start <= t ? (list[p] as Episode) : undefined;

    let value: string;
    let q: '' | 'bad' | 'uncertain' = '';
    if (me.kind === 'boolean') {
      value = ep ? 'true' : 'false';
    } else {
      const normal = me.mean + me.sd * (offset[i] as number) + me.sd * rng.gauss();
      let v = normal;
      if (ep?.kind === 'excursion') {
        const f = (t - ep.start) / (ep.end - ep.start);
        const { trip, clear } = ep.limit;
        if (f < 0.1) v = normal + (ep.peak - normal) * (f / 0.1);
        else if (f < 0.65 || !ep.hover) v = ep.peak + ep.dir * Math.abs(ep.peak - trip) * 0.3 * rng.gauss();
        else v = clear + (trip - clear) * rng.between(0.15, 1.1); // in the deadband, now and then back over the trip
        if (f >= 0.1 && f < 0.65 && ep.dir * (v - trip) <= 0) v = ep.peak;
      } else if (ep?.kind === 'spike') v = ep.peak;
      else if (ep?.kind === 'stuck') v = ep.value ??= round2(normal);
      value = ep?.kind === 'bad' ? '-3276.8' : String(round2(v));
      if (ep?.kind === 'bad') q = 'bad';
    }
    const u = rng.next();
    if (q === '' && u < 0.001) {
      q = 'bad';
      value = u < 0.0005 ? 'null' : '9999';
    } else if (q === '' && u < 0.0015) q = 'uncertain';

    const silent = plan.silences.some((s) => s.source === tag.source && t >= s.from && t < s.to);
    if (!silent) {
      if (q !== '') quality[q]++;
      chunk.push(`{"t":"${new Date(t).toISOString()}","tag":"${tag.tag}","value":${value}${q ? `,"quality":"${q}"` : ''},"source":"${tag.source}"}\n`);
      written++;
      last = t;
      if (chunk.length === 8192) {
        if (!ws.write(chunk.join(''))) await once(ws, 'drain');
        chunk = [];
      }
    }

    const busy = ep?.kind === 'excursion' ? FAST : ep?.kind === 'spike' ? SPIKE_FAST : me.period * (0.8 + 0.4 * rng.next());
    let next = t + busy;
    const upcoming = list?.[p];
    if (upcoming) {
      const edge = upcoming.start > t ? upcoming.start : upcoming.end;
      if (edge < next) next = edge;
    }
    heap.push(Math.max(t + 1, Math.ceil(next)), i); // episode edges are fractional: never report twice at one ms
  }
  ws.end(chunk.join(''));
  await once(ws, 'finish');
  renameSync(tmp, out);

  const counts: Record<string, number> = { ...plan.counts, 'bad-quality readings': quality.bad, 'uncertain readings': quality.uncertain };
  for (const s of plan.silences) counts[`silent ${s.source} (${Math.round((s.to - s.from) / 1000)} s)`] = 1;
  const result: GenerateResult = {
    file: out,
    records: written,
    from: new Date(START).toISOString(),
    to: new Date(last).toISOString(),
    seconds: (performance.now() - started) / 1000,
    counts,
  };
  writeFileSync(metaFile(out), JSON.stringify({ generator: generatorHash(), seed: SEED, measures: MEASURES.length, ...result }, null, 2) + '\n');
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { records: { type: 'string' }, out: { type: 'string' } } });
  const r = await generate({ ...(values.records ? { records: Number(values.records) } : {}), ...(values.out ? { out: values.out } : {}) });
  console.log(`wrote ${r.records.toLocaleString('en-US')} records (${r.from} .. ${r.to}) to ${r.file} in ${r.seconds.toFixed(2)} s`);
  for (const [k, n] of Object.entries(r.counts)) console.log(`  ${k}: ${n}`);
}
