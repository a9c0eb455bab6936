import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../config/load.ts';
import type { AndonConfig } from '../../config/schema.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { createTagView, type TagView } from '../../gateway/tags.ts';
import type { Signal } from '../../model/signal.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { AREAS, exposedGc, MEASURES, RULES } from './plant.ts';
import { fmt, median, printTable } from '../ingest/proc.ts';

/**
 * The live tag view's cost (issue 16):
 *
 * 1. Memory: heap and RSS (after a full GC) before and after 100,000 distinct
 *    tags were recorded, updated, and all read once through the API's query
 *    (which derives asset and rules per tag), per tag.
 * 2. Per signal, the view alone: `record()` over 100k tags, next to a bare
 *    `Map.set(tag, value)` of the same signals (the floor of keeping a last value).
 * 3. Per signal, the whole pipeline: `runtime.pushMany` (rules, ticket engine,
 *    in-memory SQLite store) with and without the view, runs interleaved (each first in every other round),
 *    in the steady state (every tag already in the view). The first signal of a tag costs more: its record
 *    is made then (1.6× for the whole pipeline in a run where all 100k records were made during it).
 *
 *   npm run bench:tags [-- --tags 100000] [--signals 500000] [--runs 3]
 */

const { values: args } = parseArgs({
  options: {
    tags: { type: 'string', default: '100000' },
    signals: { type: 'string', default: '500000' },
    runs: { type: 'string', default: '3' },
  },
});
const TAGS = Number(args.tags);
const SIGNALS = Number(args.signals);
const RUNS = Number(args.runs);
const gc = exposedGc('bench:tags');
const tagOf = (i: number) => `${AREAS[i % AREAS.length]}/asset-${Math.floor(i / MEASURES.length)}/${MEASURES[i % MEASURES.length]}`;

const config: AndonConfig = parseConfig(
  [
    'gateway: { id: bench-tags, timezone: UTC, tagView: { maxTags: ' + TAGS + ' } }',
    'sources: [ { id: plc, type: http } ]',
    'assets:',
    ...AREAS.map((a) => `  ${a}-line: { area: ${a}, tags: ["${a}/asset-1*/**"] }`),
    ...RULES,
  ].join('\n'),
);

/** `n` signals over TAGS tags, round robin (every tag seen before any repeats), values below every limit. */
function signals(n: number, t0: number): Signal[] {
  const out: Signal[] = [];
  for (let i = 0; i < n; i++) out.push({ source: 'plc', tag: tagOf(i % TAGS), value: (i % 97) + 0.5, quality: 'good', ts: t0 + i });
  return out;
}

const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 1048576, rss: m.rss / 1048576 };
};

const cpu = cpus();
console.log(
  `andon tag view benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${fmt(TAGS)} tags, ${fmt(SIGNALS)} signals per run, ${RUNS} runs\n`,
);

// 1. Memory at TAGS tags, before anything else is allocated: each signal made as a connector makes it (its own tag string).
const t0 = Date.parse('2026-03-02T08:00:00Z');
const before = mem();
let view: TagView | undefined = createTagView(config);
for (let i = 0; i < TAGS * 3; i++) view.record({ source: 'plc', tag: tagOf(i % TAGS), value: (i % 97) + 0.5, quality: 'good', ts: t0 + i }, t0 + i + 3);
const recorded = mem();
let pages = 0;
for (let after: string | undefined, page; ; after = page.next) {
  page = view.query({ limit: 1000, ...(after !== undefined ? { after } : {}) });
  pages++;
  if (page.next === null) break;
}
const derived = mem();
const one = view.query({ pattern: 'packaging/asset-10/*', limit: 5 }).items[0];
console.log(`memory: ${fmt(view.size)} tags tracked (overflow ${view.overflow}); a row: ${JSON.stringify(one)}`);
const perTag = (m: { heap: number }) => fmt(((m.heap - before.heap) * 1048576) / TAGS);
printTable([
  ['', 'heap MiB', 'RSS MiB', 'heap bytes per tag'],
  ['before the view', fmt(before.heap, 1), fmt(before.rss, 1), '—'],
  [`${fmt(TAGS)} tags recorded (3 signals each)`, fmt(recorded.heap, 1), fmt(recorded.rss, 1), perTag(recorded)],
  [`and all read once (${pages} pages of 1,000: asset and rules derived)`, fmt(derived.heap, 1), fmt(derived.rss, 1), perTag(derived)],
]);
view = undefined;
console.log('');
const stream = signals(Math.max(SIGNALS, TAGS * 2), t0);

// 2. The view alone against a bare Map.set, per signal.
const recordNs: number[] = [];
const bareNs: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const v = createTagView(config);
  for (let i = 0; i < TAGS; i++) v.record(stream[i] as Signal, 0); // every tag known: the steady state
  let t = performance.now();
  for (const s of stream) v.record(s, s.ts);
  recordNs.push(((performance.now() - t) * 1e6) / stream.length);
  const bare = new Map<string, Signal['value']>();
  for (let i = 0; i < TAGS; i++) bare.set((stream[i] as Signal).tag, 0);
  t = performance.now();
  for (const s of stream) bare.set(s.tag, s.value);
  bareNs.push(((performance.now() - t) * 1e6) / stream.length);
}

// 3. The whole pipeline with and without the view.
async function pipeline(withView: boolean): Promise<number> {
  const store = await TicketStore.open(':memory:');
  const clock = new VirtualScheduler(t0);
  // The steady state: every tag already known to the view (as after the first minutes of a live gateway).
  const view = withView ? createTagView(config) : undefined;
  if (view) for (let i = 0; i < TAGS; i++) view.record(stream[i] as Signal, t0);
  gc();
  const runtime = createRuntime({ config, store, scheduler: clock, ...(view ? { tags: view } : {}) });
  const list = stream.slice(0, SIGNALS);
  const BATCH = 100;
  const t = performance.now();
  for (let i = 0; i < list.length; i += BATCH) runtime.pushMany(list.slice(i, i + BATCH));
  const us = ((performance.now() - t) * 1e3) / list.length;
  runtime.stop();
  await store.close();
  gc();
  return us;
}
const withUs: number[] = [];
const withoutUs: number[] = [];
for (let r = 0; r < RUNS; r++) {
  // alternate which goes first: the second of a pair meets the first's garbage
  if (r % 2 === 0) {
    withoutUs.push(await pipeline(false));
    withUs.push(await pipeline(true));
  } else {
    withUs.push(await pipeline(true));
    withoutUs.push(await pipeline(false));
  }
  console.log(`run ${r + 1}: pushMany ${fmt(withoutUs[r] as number, 2)} µs/signal without the view, ${fmt(withUs[r] as number, 2)} with; record ${fmt(recordNs[r] as number)} ns, bare Map.set ${fmt(bareNs[r] as number)} ns`);
}
console.log('');
printTable([
  ['per signal (median of ' + RUNS + ')', 'without the view', 'with the view', 'ratio'],
  ['view alone: record() vs bare Map.set(tag, value), ns', fmt(median(bareNs)), fmt(median(recordNs)), `${fmt(median(recordNs) / median(bareNs), 2)}×`],
  ['runtime.pushMany (rules, engine, in-memory store), µs', fmt(median(withoutUs), 2), fmt(median(withUs), 2), `${fmt(median(withUs) / median(withoutUs), 3)}×`],
]);
