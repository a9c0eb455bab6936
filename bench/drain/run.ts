import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnAndon } from '../lib/andon-process.ts';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../config/load.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { startCentral } from '../../sim/central/server.ts';
import { cpuSeconds, median, printTable } from '../ingest/proc.ts';
import { cpuProfArgs, printProfiles } from '../lib/cpu-prof.ts';

/**
 * bench/drain: a backlog of `--tickets` × `--versions` pending ticket versions
 * (100,000 over 20,000 tickets by default), written while central was away,
 * drained by `andon start` (a child process) to the reference central (in this
 * process). Meanwhile a live alarm opens a new ticket every `--live-every` ms:
 * its latency is signal POST → ticket stored at central, while draining and
 * then idle. Next to it: a bare client PUTting the same number of snapshots
 * to a fresh central, the ceiling of the HTTP path alone. See README.md.
 *
 *   node --import tsx bench/drain/run.ts [--tickets 20000] [--versions 5] [--concurrency 8] [--live-every 50] [--idle-samples 200] [--runs 3] [--cpu-prof]
 *
 * Every run prints its figures; then the medians: PUTs/s against the bare client, RSS max.
 */
const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '20000' },
    versions: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    'live-every': { type: 'string', default: '50' },
    'idle-samples': { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    'cpu-prof': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const TICKETS = Number(args.tickets);
const VERSIONS = Number(args.versions);
const CONCURRENCY = Number(args.concurrency);
const LIVE_EVERY = Number(args['live-every']);
const root = join(import.meta.dirname, '..', '..');
const TOKEN = 'ingest-token-for-the-drain-bench';
const RUNS = Number(args.runs);
const PROF = process.env.DRAIN_PROF ?? (args['cpu-prof'] ? join(import.meta.dirname, 'out', 'prof') : undefined);

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function configYaml(dataDir: string, centralUrl: string): string {
  return `gateway:
  id: drain-bench
  dataDir: ${dataDir}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ${TOKEN} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
forward: { type: http, url: "${centralUrl}", concurrency: ${CONCURRENCY}, syncInterval: 0s }
`;
}

/** Writes the backlog straight through the runtime (one transaction; the versions matter, not 100k fsyncs). */
async function writeBacklog(file: string, configText: string): Promise<{ seconds: number; template: unknown }> {
  const t0 = performance.now();
  const store = await TicketStore.open(file);
  const runtime = createRuntime({ config: parseConfig(configText), store, scheduler: new VirtualScheduler(Date.now() - 3_600_000) });
  store.transaction(() => {
    for (let v = 0; v < VERSIONS; v++) {
      for (let i = 0; i < TICKETS; i++)
        runtime.push({ source: 'mes-http', tag: `area-${i}/m-${i}/alarm/E1`, value: v % 2 === 0, quality: 'good', ts: Date.now() });
    }
  });
  const pending = store.outboxPending();
  if (pending !== TICKETS * VERSIONS) throw new Error(`backlog has ${pending} versions, not ${TICKETS * VERSIONS}`);
  const template = store.liveByKey('m-0/alarm-stop');
  runtime.stop();
  await store.close();
  return { seconds: (performance.now() - t0) / 1000, template };
}

function startAndon(configFile: string): Promise<{ child: ChildProcess; url: string }> {
  // --cpu-prof (or DRAIN_PROF=<dir>): a CPU profile of andon (written when it stops).
  return spawnAndon(configFile, { nodeArgs: cpuProfArgs(PROF) });
}

async function bareCeiling(templateFile: string): Promise<{ rate: number; seconds: number }> {
  const central = await startCentral();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/drain/bare.ts', '--url', central.url, '--n', String(TICKETS), '--concurrency', String(CONCURRENCY), '--template', templateFile],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  await new Promise((r) => child.once('exit', r));
  await central.stop();
  return JSON.parse(out) as { rate: number; seconds: number };
}

const cpu = cpus();
console.log(
  `andon drain benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `backlog ${fmt(TICKETS * VERSIONS)} versions over ${fmt(TICKETS)} tickets, forward.concurrency ${CONCURRENCY}, a live alarm every ${LIVE_EVERY} ms\n`,
);
interface DrainRun {
  putsPerSecond: number;
  /** andon's CPU µs per backlog ticket over the drain. */
  cpuPerTicket: number;
  bare: number;
  rssMax: number;
  rssSamples: number;
  liveP99: number;
}

async function measure(round: number): Promise<DrainRun> {
  const dir = mkdtempSync(join(tmpdir(), 'andon-drain-'));
  try {
    const central = await startCentral();
    const configText = configYaml(join(dir, 'data'), central.url);
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, configText);
    const backlog = await writeBacklog(join(dir, 'data', 'andon.sqlite'), configText);
    console.log(`backlog written in ${fmt(backlog.seconds, 1)} s`);

    // Live tickets: POST time per key; latency when central stores its first version.
    const posted = new Map<string, number>();
    const latency = { draining: [] as number[], idle: [] as number[] };
    /** Signal POST → its 202 (the ticket is committed in the gateway): the ingest part of the latency. */
    const answered = { draining: [] as number[], idle: [] as number[] };
    /** 202 → stored at central: the forwarding part (negative when central had it before the 202 arrived). */
    const forwarded = { draining: [] as number[], idle: [] as number[] };
    const answeredAt = new Map<string, number>();
    const writtenAt = new Map<string, number>();
    const split = (key: string, p: 'draining' | 'idle') => {
      const a = answeredAt.get(key);
      const w = writtenAt.get(key);
      if (a !== undefined && w !== undefined) forwarded[p].push(w - a);
    };
    let phase: 'draining' | 'idle' = 'draining';
    let done = 0;
    let firstPut = 0;
    let drainedAt = 0;
    /** andon's CPU seconds (user + system, /proc) at the first PUT and when the backlog is in. */
    let cpuAtFirstPut = 0;
    let cpuAtDrained = 0;
    let pid = 0;
    let onDrained: () => void = () => undefined;
    const drained = new Promise<void>((r) => (onDrained = r));
    const liveSeen = new Set<string>();
    let onLive: () => void = () => undefined;
    central.events.on('request', ({ method }) => {
      if (method === 'PUT' && firstPut === 0) {
        firstPut = performance.now();
        cpuAtFirstPut = cpuSeconds(pid);
      }
    });
    central.events.on('write', ({ version, ticket }) => {
      const key = String(ticket.key);
      if (key.startsWith('m-')) {
        if (version === VERSIONS && ++done === TICKETS) {
          drainedAt = performance.now();
          cpuAtDrained = cpuSeconds(pid);
          onDrained();
        }
      } else if (!liveSeen.has(key)) {
        liveSeen.add(key);
        const t = posted.get(key);
        if (t !== undefined) latency[phase].push(performance.now() - t);
        writtenAt.set(key, performance.now());
        split(key, phase);
        onLive();
      }
    });
    let n = 0;
    let gwUrl = '';
    const postLive = async () => {
      const i = n++;
      posted.set(`live-${i}/alarm-stop`, performance.now());
      const res = await fetch(`${gwUrl}/api/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tag: `area-live-${i}/live-${i}/alarm/E1`, value: true }),
      });
      await res.arrayBuffer();
      const key = `live-${i}/alarm-stop`;
      answered[phase].push(performance.now() - (posted.get(key) as number));
      answeredAt.set(key, performance.now());
      split(key, phase);
    };

    const spawned = performance.now();
    const gw = await startAndon(configFile);
    gwUrl = gw.url;
    pid = gw.child.pid as number;
    const rss: number[] = [rssMiB(pid)];
    const heap: number[] = [];
    let tick = 0;
    const sampler = setInterval(() => {
      rss.push(rssMiB(pid));
      // The heap from /metrics once a second only: a scrape costs the gateway some work too.
      if (tick++ % 4 !== 0) return;
      void fetch(`${gwUrl}/metrics`)
        .then((r) => r.text())
        .then((t) => heap.push(Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(t)?.[1] ?? NaN) / 1048576))
        .catch(() => undefined);
    }, 250);
    let live = 0;
    while (drainedAt === 0) {
      void postLive().catch((err: unknown) => console.log(`live POST failed: ${String(err)}`));
      live++;
      await Promise.race([sleep(LIVE_EVERY), drained]);
    }
    await drained;
    clearInterval(sampler);
    const scrape = await (await fetch(`${gwUrl}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(scrape)?.[1] ?? NaN);
    const gc = (kind: string) =>
      `${fmt(metric(`nodejs_gc_duration_seconds_count{kind="${kind}"}`))} / ${fmt(metric(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`), 2)} s`;
    const drainSeconds = (drainedAt - firstPut) / 1000;
    const cpuPerTicket = ((cpuAtDrained - cpuAtFirstPut) * 1e6) / TICKETS;
    const puts = central.stats().puts;
    // Let the last live tickets of the draining phase arrive, then measure idle.
    while (liveSeen.size < live) await new Promise<void>((r) => (onLive = r));
    phase = 'idle';
    for (let i = 0; i < Number(args['idle-samples']); i++) {
      const arrived = new Promise<void>((r) => (onLive = r));
      await postLive();
      await arrived;
      await sleep(LIVE_EVERY);
    }
    gw.child.kill('SIGTERM');
    await new Promise((r) => gw.child.once('exit', r));
    await central.stop();

    const templateFile = join(dir, 'template.json');
    writeFileSync(templateFile, JSON.stringify(backlog.template));
    const bare = await bareCeiling(templateFile);

    const rows: [string, string][] = [
      ['backlog', `${fmt(TICKETS * VERSIONS)} versions / ${fmt(TICKETS)} tickets`],
      ['drain time (first PUT → last backlog ticket at central)', `${fmt(drainSeconds, 1)} s (andon up ${fmt((firstPut - spawned) / 1000, 1)} s after spawn)`],
      ['drain rate: versions/s', fmt((TICKETS * VERSIONS) / drainSeconds)],
      ['drain rate: tickets/s (= PUTs/s; versions coalesce)', fmt(TICKETS / drainSeconds)],
      ['PUTs during the drain (backlog + live)', fmt(puts)],
      ['andon CPU per backlog ticket during the drain (user + system, /proc)', `${fmt(cpuPerTicket)} µs`],
      ['bare client ceiling, same snapshots (PUTs/s)', `${fmt(bare.rate)} (${fmt(bare.seconds, 1)} s for ${fmt(TICKETS)})`],
      [
        `live ticket latency while draining, p50 / p99 / max (n=${latency.draining.length})`,
        `${fmt(pct(latency.draining, 50), 1)} / ${fmt(pct(latency.draining, 99), 1)} / ${fmt(Math.max(...latency.draining), 1)} ms`,
      ],
      [
        `live ticket latency idle, p50 / p99 / max (n=${latency.idle.length})`,
        `${fmt(pct(latency.idle, 50), 1)} / ${fmt(pct(latency.idle, 99), 1)} / ${fmt(Math.max(...latency.idle), 1)} ms`,
      ],
      [
        '  ingest: signal POST → 202 (committed), p50 / p99 draining | idle',
        `${fmt(pct(answered.draining, 50), 1)} / ${fmt(pct(answered.draining, 99), 1)} | ${fmt(pct(answered.idle, 50), 1)} / ${fmt(pct(answered.idle, 99), 1)} ms`,
      ],
      [
        '  forward: 202 → stored at central, p50 / p99 draining | idle',
        `${fmt(pct(forwarded.draining, 50), 1)} / ${fmt(pct(forwarded.draining, 99), 1)} | ${fmt(pct(forwarded.idle, 50), 1)} / ${fmt(pct(forwarded.idle, 99), 1)} ms`,
      ],
      ['andon RSS at start / peak during the drain', `${fmt(rss[0] ?? 0)} / ${fmt(Math.max(...rss))} MiB`],
      ['andon V8 heap used, first / min / max sample during the drain', `${fmt(heap[0] ?? NaN)} / ${fmt(Math.min(...heap))} / ${fmt(Math.max(...heap))} MiB`],
      ['andon GC since start: minor, major (count / total)', `${gc('minor')}, ${gc('major')}`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log('');
    console.log(`run ${round}:`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
    const out = join(import.meta.dirname, 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, `result-c${CONCURRENCY}.json`),
      JSON.stringify(
        { tickets: TICKETS, versions: VERSIONS, concurrency: CONCURRENCY, drainSeconds, puts, bare, latency, answered, forwarded, rss, heap },
        null,
        1,
      ),
    );
    return {
      putsPerSecond: TICKETS / drainSeconds,
      cpuPerTicket,
      bare: bare.rate,
      rssMax: Math.max(...rss),
      rssSamples: rss.length,
      liveP99: pct(latency.draining, 99),
    };
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

const since = Date.now();
const runs: DrainRun[] = [];
for (let r = 1; r <= RUNS; r++) runs.push(await measure(r));
const all = (xs: number[], d = 0) => xs.map((x) => fmt(x, d)).join(' / ');
console.log('');
printTable([
  ['', `median of ${RUNS}`, 'runs', 'target'],
  ['andon drain, PUTs/s (= tickets/s)', fmt(median(runs.map((r) => r.putsPerSecond))), all(runs.map((r) => r.putsPerSecond)), ''],
  ['bare client, PUTs/s', fmt(median(runs.map((r) => r.bare))), all(runs.map((r) => r.bare)), ''],
  ['andon CPU µs per backlog ticket (/proc)', fmt(median(runs.map((r) => r.cpuPerTicket))), all(runs.map((r) => r.cpuPerTicket)), ''],
  [
    'andon / bare',
    `${fmt(median(runs.map((r) => r.putsPerSecond / r.bare)), 3)}×`,
    all(
      runs.map((r) => r.putsPerSecond / r.bare),
      3,
    ),
    '≥ 0.8×',
  ],
  ['andon RSS max over the drain (MiB, sampled every 250 ms)', fmt(median(runs.map((r) => r.rssMax))), all(runs.map((r) => r.rssMax)), '≤ 250 MiB'],
  [
    'live alarm → central while draining, p99 (ms)',
    fmt(median(runs.map((r) => r.liveP99)), 1),
    all(
      runs.map((r) => r.liveP99),
      1,
    ),
    '',
  ],
]);
printProfiles(PROF, since, 15, 'andon start');
