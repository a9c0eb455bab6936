/**
 * The rule pipeline's own memory per tag: the heap that `runtime.pushMany` keeps after every one of
 * `--tags` distinct tags went through it twice (the asset index, the rules' per-tag caches and the
 * detectors' state; no tag view, an in-memory store, no ticket raised), after a full GC, next to a bare
 * `Map<tag, { value, ts }>` of the same signals (the floor of remembering a last value per tag).
 *
 * The plant: 5 measures per asset, 5 areas, the first 2,000 assets configured by tag pattern (the rest
 * resolved by the UNS guess), three threshold rules on some of the measures and a silence rule.
 *
 *   npm run bench:pipeline-heap [-- --tags 100000]
 */
import { parseArgs } from 'node:util';
import { parseConfig } from '../../config/load.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import type { Signal } from '../../model/signal.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { AREAS, exposedGc, MEASURES, RULES } from './plant.ts';
import { fmt, printTable } from '../ingest/proc.ts';

const { values: args } = parseArgs({ options: { tags: { type: 'string', default: '100000' } } });
const TAGS = Number(args.tags);
const gc = exposedGc('bench:pipeline-heap');
const assetOf = (i: number) => Math.floor(i / MEASURES.length);
const tagOf = (i: number) => `${AREAS[assetOf(i) % AREAS.length]}/asset-${assetOf(i)}/${MEASURES[i % MEASURES.length]}`;
const CONFIGURED = 2000;
const config = parseConfig(
  [
    `gateway: { id: bench-pipeline-heap, timezone: UTC, tagView: { maxTags: ${TAGS} } }`,
    'sources: [ { id: plc, type: http } ]',
    'assets:',
    ...Array.from({ length: CONFIGURED }, (_, k) => `  a${k}: { area: ${AREAS[k % AREAS.length]}, tags: ["${AREAS[k % AREAS.length]}/asset-${k}/**"] }`),
    ...RULES,
  ].join('\n'),
);
const t0 = Date.parse('2026-03-02T08:00:00Z');
/** Round `round` of every tag once, as a connector makes signals (each its own tag string). */
const batch = (from: number, round: number): Signal[] => {
  const list: Signal[] = [];
  for (let j = from; j < Math.min(TAGS, from + 100); j++) list.push({ source: 'plc', tag: tagOf(j), value: (j % 97) + 0.5, quality: 'good', ts: t0 + round * TAGS + j });
  return list;
};
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

// The peer: a bare Map of the last value per tag.
let h = heap();
const bare = new Map<string, { value: Signal['value']; ts: number }>();
for (let round = 0; round < 2; round++) for (let i = 0; i < TAGS; i += 100) for (const s of batch(i, round)) bare.set(s.tag, { value: s.value, ts: s.ts });
const bareBytes = heap() - h;
bare.clear();

// The pipeline.
const store = await TicketStore.open(':memory:');
const runtime = createRuntime({ config, store, scheduler: new VirtualScheduler(t0) });
h = heap();
for (let round = 0; round < 2; round++) for (let i = 0; i < TAGS; i += 100) runtime.pushMany(batch(i, round));
const pipelineBytes = heap() - h;
const tickets = store.liveTickets().length;
runtime.stop();
await store.close();

printTable([
  [`${fmt(TAGS)} tags, each twice (${fmt(tickets)} tickets)`, 'heap MiB', 'bytes per tag'],
  ['rule pipeline (runtime.pushMany, no tag view)', fmt(pipelineBytes / 1048576, 1), fmt(pipelineBytes / TAGS)],
  ['bare Map<tag, { value, ts }>', fmt(bareBytes / 1048576, 1), fmt(bareBytes / TAGS)],
  ['pipeline / bare', '', `${fmt(pipelineBytes / bareBytes, 2)}×`],
]);
process.exit(0); // the silence rule's timer (virtual) and the store's handles: nothing else to wait for
