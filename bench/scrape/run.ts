import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseConfig } from '../../config/load.ts';
import { createMetrics } from '../../gateway/metrics.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';

/**
 * bench/scrape: what one GET /metrics costs with `--tickets` live tickets
 * (20,000 by default, spread over 20 areas, all pending in the outbox), and
 * what seeding the alarm KPIs at start costs. Next to it: a registry with the
 * default process metrics only, the floor of any scrape.
 *
 *   node --import tsx bench/scrape/run.ts [--tickets 20000] [--scrapes 200]
 */
const { values: args } = parseArgs({ options: { tickets: { type: 'string', default: '20000' }, scrapes: { type: 'string', default: '200' } } });
const TICKETS = Number(args.tickets);
const SCRAPES = Number(args.scrapes);
const AREAS = Array.from({ length: 20 }, (_, i) => `area-${i}`);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function timeScrapes(registry: Registry): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const t = performance.now();
    await registry.metrics();
    out.push(performance.now() - t);
  }
  return out;
}

const cpu = cpus();
console.log(
  `andon scrape benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const dir = mkdtempSync(join(tmpdir(), 'andon-scrape-'));
try {
  const store = await TicketStore.open(join(dir, 'andon.sqlite'));
  const config = parseConfig(`
gateway: { id: scrape-bench }
rules: [ { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 } ]
correlation: { flood: { count: 1000000, within: 10m } }
`);
  const clock = new VirtualScheduler(Date.now() - 3_600_000);
  const runtime = createRuntime({ config, store, scheduler: clock });
  let t = performance.now();
  store.transaction(() => {
    for (let i = 0; i < TICKETS; i++) {
      clock.advanceTo(clock.now() + 10);
      runtime.push({ source: 'mes', tag: `${AREAS[i % AREAS.length]}/m-${i}/alarm/E1`, value: true, quality: 'good', ts: clock.now() });
    }
  });
  console.log(
    `wrote ${TICKETS.toLocaleString('en-US')} live tickets in ${((performance.now() - t) / 1000).toFixed(1)} s (${store.outboxPending().toLocaleString('en-US')} pending in the outbox)\n`,
  );

  const registry = new Registry();
  t = performance.now();
  const metrics = createMetrics(registry, store, { defaults: true, areas: AREAS, now: () => clock.now() });
  const seed = performance.now() - t;
  const changes: Parameters<typeof metrics.onChange>[0][] = [];
  runtime.engine.changes$.subscribe((c) => {
    metrics.onChange(c);
    changes.push(c);
  });
  store.transaction(() => {
    for (let i = 0; i < 2000; i++) {
      clock.advanceTo(clock.now() + 10);
      runtime.push({ source: 'mes', tag: `${AREAS[i % AREAS.length]}/m-${i}/alarm/E1`, value: i % 2 === 0, quality: 'good', ts: clock.now() });
    }
  });
  // What following a committed change costs (the same changes again).
  t = performance.now();
  for (let r = 0; r < 50; r++) for (const c of changes) metrics.onChange(c);
  const perChange = ((performance.now() - t) * 1000) / (50 * changes.length);

  const floor = new Registry();
  collectDefaultMetrics({ register: floor });
  await timeScrapes(registry); // warm up
  await timeScrapes(floor);
  const andon = await timeScrapes(registry);
  const base = await timeScrapes(floor);
  const kpiOnly = new Registry();
  const kpiNames = [
    'andon_alarm_rate_10m',
    'andon_flood_active',
    'andon_chattering_tickets',
    'andon_stale_tickets',
    'andon_shelved_tickets',
    'andon_ack_latency_seconds',
  ];
  for (const n of kpiNames) kpiOnly.registerMetric(registry.getSingleMetric(n)!);
  const kpis = await timeScrapes(kpiOnly);
  const storeNames = ['andon_tickets_open', 'andon_outbox_pending', 'andon_outbox_oldest_seconds', 'andon_outbox_parked'];
  const storeOnly = new Registry();
  for (const n of storeNames) storeOnly.registerMetric(registry.getSingleMetric(n)!);
  const sql = await timeScrapes(storeOnly);
  const bytes = (await registry.metrics()).length;

  console.log(`| scrape with ${TICKETS.toLocaleString('en-US')} live tickets (${SCRAPES} scrapes) | p50 | p99 |`);
  console.log('|---|---|---|');
  console.log(`| andon /metrics, everything (${(bytes / 1024).toFixed(1)} KiB) | ${ms(pct(andon, 50))} | ${ms(pct(andon, 99))} |`);
  console.log(`|   of which the alarm KPIs (in memory) | ${ms(pct(kpis, 50))} | ${ms(pct(kpis, 99))} |`);
  console.log(`|   of which the store gauges (SQL: tickets open, outbox) | ${ms(pct(sql, 50))} | ${ms(pct(sql, 99))} |`);
  console.log(`| peer: default process metrics only | ${ms(pct(base, 50))} | ${ms(pct(base, 99))} |`);
  console.log(`\nseeding the KPIs from the store at start: ${ms(seed)}; metrics.onChange: ${perChange.toFixed(2)} µs per committed change`);
  runtime.stop();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
