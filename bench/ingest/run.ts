import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMosquitto, tempDir } from '../../connectors/mqtt/fixtures/brokers.ts';
import { startAndonConsumer, startBare, startNodeRedConsumer, startPublisher, type Consumer, type Progress, type Publisher } from './consumers.ts';
import { printProfiles } from '../lib/cpu-prof.ts';
import { nodeRedInstalled } from './nodered.ts';
import { stream } from './plant.ts';
import { cpuSeconds, epoch, fmt, median, memory, printTable, sleep, waitUntil } from './proc.ts';

/**
 * The ingest benchmark: one seeded message stream through mosquitto, consumed
 * in turn by (a) a bare mqtt.js subscriber that only counts, (b) `andon start`
 * with the bench plant's rules, (c) Node-RED 4.1 running the equivalent flow.
 * Each measurement gets a fresh broker and a fresh consumer process. Median of
 * `--runs` per consumer, rounds interleaved. `--rss` runs rss.ts instead.
 *
 *   npm run bench:ingest [-- --runs 3] [--messages 200000] [--consumers bare,andon,nodered] [--bare-work <µs>]
 *   npm run bench:ingest -- --rss [--seconds 120]
 *   --cpu-prof: Andon writes a CPU profile into out/prof; its top 15 self-time frames are printed at the end
 */

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    messages: { type: 'string', default: '200000' },
    excursions: { type: 'string', default: '100' },
    consumers: { type: 'string', default: 'bare,andon,nodered' },
    inflight: { type: 'string', default: '20' },
    queued: { type: 'string', default: '0' },
    window: { type: 'string', default: '1000' },
    'bare-work': { type: 'string', default: '0' },
    stall: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    rss: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '120' },
    tags: { type: 'string', default: '10000' },
  },
});

/** `--cpu-prof`: Andon runs with `--cpu-prof` into out/prof; its top frames are printed at the end. `--profile <dir>` picks the directory. */
const PROF = args.profile ? resolve(args.profile) : args['cpu-prof'] ? join(import.meta.dirname, 'out', 'prof') : undefined;
if (PROF) mkdirSync(PROF, { recursive: true });
const since = Date.now();

if (args.rss) {
  const { runRss } = await import('./rss.ts');
  await runRss({ seconds: Number(args.seconds), tags: Number(args.tags), keep: args.keep, ...(PROF ? { profileDir: PROF } : {}) });
  printProfiles(PROF, since, 15, 'andon start');
  process.exit(0);
}

const RUNS = Number(args.runs);
const N = Number(args.messages);
const INFLIGHT = Number(args.inflight);
const WINDOW = Number(args.window);
const STALL_MS = Number(args.stall) * 1000;
const MAX_MS = 15 * 60_000;
const POLL_MS = 200;
type Kind = 'bare' | 'andon' | 'andon-jsonata' | 'nodered';
const KINDS = (args.consumers.split(',') as Kind[]).filter((k) => {
  if (k !== 'nodered' || nodeRedInstalled()) return true;
  console.log('Node-RED is not installed under bench/ingest/node_modules (npm ci --prefix bench/ingest): skipping it');
  return false;
});
for (const k of KINDS) if (!['bare', 'andon', 'andon-jsonata', 'nodered'].includes(k)) throw new Error(`unknown consumer "${k}" (bare, andon, andon-jsonata, nodered)`);
const LABEL: Record<Kind, string> = {
  bare: `bare mqtt.js subscriber${Number(args['bare-work']) > 0 ? ` (+${args['bare-work']} µs work/msg)` : ''}`,
  andon: 'andon start (rules on)',
  'andon-jsonata': 'andon start, JSONata mapping',
  nodered: 'Node-RED 4.1 flow',
};

/**
 * When Andon counted its last message, from the polls: the poll that saw all N is late
 * (by up to POLL_MS, more while Andon's event loop is busy), so the end is placed where
 * the rate between the two polls before it reaches N, never later than that poll.
 */
function endOf(polls: { t: number; count: number }[]): number {
  const done = polls[polls.length - 1] as { t: number; count: number };
  const [a, b] = [polls[polls.length - 3], polls[polls.length - 2]];
  if (!a || !b || b.count <= a.count) return done.t;
  const rate = (b.count - a.count) / (b.t - a.t);
  return Math.min(done.t, b.t + (N - b.count) / rate);
}

interface Measurement {
  kind: Kind;
  /** Messages per second: N / (time all N were counted − time the first was published). */
  rate: number;
  seconds: number;
  count: number;
  losses: number;
  pubRate: number;
  /** Consumer CPU seconds (user + system) during the measurement, and its peak RSS (MiB). */
  cpu: number;
  hwm: number;
  brokerCpu: number;
  /** The slowest answer to a progress poll (Andon GET /metrics, Node-RED GET /stats), ms. */
  slowestPoll: number;
  /** Andon: the longest event-loop delay it reported while taking the stream, ms. */
  maxLag?: number;
  raises?: number;
  rejected?: number;
  outcome: string;
}

async function measure(kind: Kind): Promise<Measurement> {
  const tmp = tempDir(`andon-ingest-${kind}-`);
  const mosq = await startMosquitto({
    dir: tmp.dir,
    listeners: [{ lines: ['allow_anonymous true'] }],
    // startMosquitto writes max_queued_messages 0; a later line overrides it
    global: [`max_inflight_messages ${INFLIGHT}`, ...(args.queued !== '0' ? [`max_queued_messages ${args.queued}`] : []), 'log_type subscribe'],
  });
  let c: Consumer | undefined;
  let publisher: Publisher | undefined;
  let failed = false;
  try {
    const port = mosq.ports[0] as number;
    const url = `mqtt://127.0.0.1:${port}`;
    c =
      kind === 'bare'
        ? await startBare(url, N, args['bare-work'])
        : kind === 'andon' || kind === 'andon-jsonata'
          ? await startAndonConsumer(tmp.dir, url, PROF, kind === 'andon-jsonata')
          : await startNodeRedConsumer(tmp.dir, port);
    const consumer = c;
    const subscribed = new RegExp(`: ${consumer.clientId} 1 plant/\\+/\\+/\\+$`, 'm');
    await waitUntil(() => (subscribed.test(mosq.log()) ? true : undefined), 30_000, `${kind} to subscribe`);
    // One poll before the stream, so that the first lag figure Andon reports does not cover its startup.
    await consumer.progress();
    publisher = await startPublisher(url, { messages: N, excursions: args.excursions, window: WINDOW });
    const cpu0 = cpuSeconds(consumer.pid);
    const brokerCpu0 = cpuSeconds(mosq.proc.pid as number);
    let pub: { t0: number; t1: number } | undefined;
    const publishing = publisher.go().then((p) => (pub = p));
    publishing.catch(() => undefined);

    let p: Progress = { count: 0 };
    let doneAt: number | undefined;
    let lastChange = performance.now();
    const polls: { t: number; count: number }[] = [];
    let slowestPoll = 0;
    let maxLag = 0;
    const started = performance.now();
    for (;;) {
      await sleep(POLL_MS);
      const asked = epoch();
      const q = await consumer.progress();
      const t = epoch();
      if (kind !== 'bare') slowestPoll = Math.max(slowestPoll, t - asked);
      if (q?.lag !== undefined && p.count < N) maxLag = Math.max(maxLag, q.lag);
      if (q) {
        if (q.count !== p.count) lastChange = performance.now();
        p = q;
        polls.push({ t, count: q.count });
      }
      if (p.count >= N) {
        // bare and Node-RED report the time of their last message; Andon is polled (see endOf)
        doneAt = p.last ?? endOf(polls);
        break;
      }
      if ((pub && performance.now() - lastChange > STALL_MS) || performance.now() - started > MAX_MS) break;
    }
    await publishing;
    const t0 = (pub as { t0: number; t1: number }).t0;
    const pubRate = N / (((pub as { t1: number }).t1 - t0) / 1000);
    const cpu = cpuSeconds(consumer.pid) - cpu0;
    const brokerCpu = cpuSeconds(mosq.proc.pid as number) - brokerCpu0;
    const hwm = memory(consumer.pid).hwm;
    // Duplicates (QoS 1 redelivery) would show as count > N.
    await sleep(kind === 'bare' ? 0 : 1000);
    const final = (await consumer.progress()) ?? p;
    const end = doneAt ?? epoch();
    const seconds = (end - t0) / 1000;
    return {
      kind,
      rate: doneAt ? N / seconds : NaN,
      seconds,
      count: final.count,
      losses: Math.max(0, N - final.count),
      pubRate,
      cpu,
      hwm,
      brokerCpu,
      slowestPoll,
      ...(kind !== 'nodered' ? { maxLag } : {}),
      ...(final.raises !== undefined ? { raises: final.raises } : {}),
      ...(final.rejected !== undefined ? { rejected: final.rejected } : {}),
      outcome: await consumer.outcome(),
    };
  } catch (err) {
    failed = true;
    console.log(`  ${kind}: failed (${(err as Error).message}); logs kept in ${tmp.dir}`);
    throw err;
  } finally {
    await publisher?.stop();
    await c?.stop();
    await mosq.stop();
    if (!args.keep && !failed) tmp.remove();
  }
}

const wall = performance.now();
const cpu = cpus();
console.log(
  `andon ingest benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const s = stream({ messages: N, excursions: Number(args.excursions) });
console.log(
  `stream: ${fmt(N)} QoS 1 messages (${fmt(s.bytes / 1048576, 1)} MB topic + payload) on 10,000 topics plant/<area>/<asset>/<measure>; ` +
    `${s.raises} raises and ${s.clears} clears in it; publisher window ${WINDOW}; mosquitto max_inflight_messages ${INFLIGHT}, max_queued_messages ${args.queued}; tmp ${tmpdir()}\n`,
);

const results: Measurement[] = [];
for (let round = 1; round <= RUNS; round++) {
  for (const kind of KINDS) {
    const m = await measure(kind);
    results.push(m);
    console.log(
      `run ${round} ${kind.padEnd(7)} ${Number.isNaN(m.rate) ? `incomplete after ${fmt(m.seconds, 2)} s` : `${fmt(m.rate)} msg/s in ${fmt(m.seconds, 2)} s, ${fmt((m.rate / m.pubRate) * 100)} %`} of the publisher's ${fmt(m.pubRate)} msg/s` +
        ` | counted ${fmt(m.count)}${m.losses ? `, LOST ${fmt(m.losses)}` : ''}${m.count > N ? `, ${fmt(m.count - N)} duplicates` : ''}` +
        ` | CPU ${fmt(m.cpu, 1)} s (${fmt((m.cpu / N) * 1e6, 1)} µs/msg), broker ${fmt(m.brokerCpu, 1)} s | peak RSS ${fmt(m.hwm)} MiB` +
        `${m.maxLag !== undefined ? ` | event-loop lag max ${fmt(m.maxLag)} ms` : ''}${m.slowestPoll ? ` | slowest poll ${fmt(m.slowestPoll)} ms` : ''}` +
        `${m.raises !== undefined ? ` | raises ${m.raises}` : ''}${m.rejected ? ` | rejected ${m.rejected}` : ''}${m.outcome ? ` | ${m.outcome}` : ''}`,
    );
  }
}

const of = (k: Kind) => results.filter((r) => r.kind === k);
/** A rate, or — when a run did not get every message. */
const show = (x: number, digits = 0) => (Number.isNaN(x) ? '—' : fmt(x, digits));
/** Median, or NaN when any run did not get every message. */
const medianOfAll = (xs: number[]) => (xs.some(Number.isNaN) ? NaN : median(xs));
const rate = (k: Kind) => medianOfAll(of(k).map((r) => r.rate));
const rows: string[][] = [['', 'messages/s', 'runs', 'of publisher rate', 'lost', 'CPU µs/msg', 'peak RSS MiB', 'event-loop lag max ms', 'slowest poll ms']];
for (const k of KINDS) {
  const rs = of(k);
  rows.push([
    `${LABEL[k]} (median of ${rs.length})`,
    show(rate(k)),
    rs.map((r) => show(r.rate)).join(' / '),
    `${show(medianOfAll(rs.map((r) => (r.rate / r.pubRate) * 100)))} %`,
    fmt(rs.reduce((n, r) => n + r.losses, 0)),
    fmt(median(rs.map((r) => (r.cpu / N) * 1e6)), 1),
    fmt(median(rs.map((r) => r.hwm))),
    k === 'nodered' ? '—' : fmt(Math.max(...rs.map((r) => r.maxLag ?? 0))),
    k === 'bare' ? '—' : fmt(Math.max(...rs.map((r) => r.slowestPoll))),
  ]);
}
const cpuOf = (k: Kind) => median(of(k).map((r) => r.cpu));
const ratio = (a: Kind, b: Kind, label: string) => {
  if (KINDS.includes(a) && KINDS.includes(b))
    rows.push([
      label,
      `${show(rate(a) / rate(b), 3)}×`,
      of(a)
        .map((r, i) => show(r.rate / (of(b)[i]?.rate ?? NaN), 3))
        .join(' / '),
      '',
      '',
      `${fmt(cpuOf(a) / cpuOf(b), 2)}×`,
      '',
      '',
      '',
    ]);
};
ratio('andon', 'bare', 'andon / bare (targets: ≥ 0.9× msg/s, ≤ 1.5× CPU/msg)');
ratio('andon', 'nodered', 'andon / Node-RED');
ratio('andon-jsonata', 'andon', 'JSONata / simple paths');
console.log('');
printTable(rows);
printProfiles(PROF, since, 15, 'andon start');
console.log(`\n${fmt(N)} messages a run; expected ${s.raises} raises / ${s.clears} clears; wall ${fmt((performance.now() - wall) / 1000, 1)} s`);
