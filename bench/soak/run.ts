// bench/soak: an hour of live load on `andon start` (a child process), then no ticket may be lost or doubled.
//   npm run bench:soak                                         60 min, 10,000 tags, 50 board clients
//   npm run bench:soak -- --duration 3m --tags 2000 --clients 10 --outage 1m
// Prints a line per minute and a summary, writes out/soak-<time>.{png,svg,json}; exits 1 on loss, duplicates,
// mishandled bad inputs or a gateway that exited. See README.md.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startAedes, startMosquitto, tempDir } from '../../connectors/mqtt/fixtures/brokers.ts';
import { startCentral } from '../../sim/central/server.ts';
import { startAndon } from '../ingest/andon.ts';
import { cpuSeconds, spawnLogged, stopChild } from '../ingest/proc.ts';
import { boardSummary, startBoard } from './board.ts';
import { chartSvg, writeChart } from './chart.ts';
import type { LoadArgs } from './load.ts';
import { soakOptions } from './options.ts';
import { soakConfig, soakPlant, TOKENS } from './plant.ts';
import { fmt, minuteLine, ms, pct, sampleOf, scrape, type Sample } from './report.ts';
import { finish } from './finish.ts';
import { watchCentralOrder } from './verify.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'bench/soak/out');
const o = soakOptions();
const p = soakPlant(o.tags);
const tmp = tempDir('andon-soak-');
mkdirSync(OUT, { recursive: true });
const epoch = () => performance.timeOrigin + performance.now();
const tally = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

// The peers: a broker, central (in this process, so it can go away and come back), the gateway.
const mosquitto = existsSync('/usr/sbin/mosquitto') || existsSync('/usr/bin/mosquitto');
const broker = mosquitto ? await startMosquitto({ dir: tmp.dir, listeners: [{ lines: ['allow_anonymous true'] }] }) : await startAedes();
const mqttUrl = 'url' in broker ? broker.url : `mqtt://127.0.0.1:${broker.ports[0]}`;
const central = await startCentral({ port: 0 });
const centralOrder = watchCentralOrder(central);
const andon = await startAndon(tmp.dir, (port) => soakConfig(p, { dataDir: tmp.dir, port, mqttUrl, centralUrl: central.url }), { readyMs: 120_000 });
let gatewayExit: string | null = null;
let stopping = false;
let stopExit = '';
andon.child.once('exit', (code, sig) => (stopping ? (stopExit = `${code ?? sig}`) : (gatewayExit = `exited with ${code ?? sig}`)));
console.log(
  `bench/soak: ${fmt(o.durationMs / 60_000, 1)} min, ${fmt(p.analog.length + p.alarms.length)} tags (${fmt(p.analog.length)} analog at ${fmt(o.rate)} msg/s, ${fmt(p.alarms.length)} alarms), ` +
    `${o.clients} board clients, ${mosquitto ? 'mosquitto' : 'aedes'}, central down ${fmt(o.outageStartMs / 60_000, 1)}–${fmt((o.outageStartMs + o.outageMs) / 60_000, 1)} min, ` +
    `bursts of ${o.burstSize} every ${fmt(o.burstEveryMs / 60_000, 1)} min, poison timestamps ${o.poison ? 'on' : 'OFF'}; gateway pid ${andon.pid}, ${andon.url}, log ${join(tmp.dir, 'andon.log')}`,
);

// The board: `clients` readers of the event stream; the first one times each raise by the token in its evidence.
interface Raise {
  at: number;
  ch: string;
}
const pending = new Map<number, Raise>();
const latencies: { seenMin: number; ms: number; ch: string }[] = [];
const t0 = epoch();
const minutes = () => (epoch() - t0) / 60_000;
const board = startBoard(`${andon.url}/api/v1/events`, TOKENS.operator, o.clients, (data, at) => {
  for (const m of data.matchAll(/soak#(\d+)/g)) {
    const n = Number(m[1]);
    const r = pending.get(n);
    if (!r) continue;
    pending.delete(n);
    latencies.push({ seenMin: (at - t0) / 60_000, ms: at - r.at, ch: r.ch });
  }
});
await sleep(1000);

// The load, in its own process.
const loadArgs: LoadArgs = { mqttUrl, httpUrl: andon.url, ...o };
const load = spawnLogged(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/soak/load.ts'), JSON.stringify(loadArgs)], join(tmp.dir, 'load.log'), {
  cwd: ROOT,
  pipeStdout: true,
});
const raised = new Set<string>();
const refused = new Map<string, number>(); // good alarm signals the gateway did not take (HTTP status), by status
const bad: { ch: string; kind: string; expect: string; status: string | number }[] = [];
const badWrong: string[] = [];
let alarms = 0;
let tel = { sent: 0, acked: 0, skipped: 0, inflight: 0 };
let publishErrors = 0;
const loadDone = new Promise<void>((resolve) => {
  load.once('exit', () => resolve());
  createInterface({ input: load.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    if (e.t === 'a') {
      alarms++;
      if (e.v === true) {
        raised.add(e.key as string);
        pending.set(e.n as number, { at: e.at as number, ch: e.ch as string });
      }
    } else if (e.t === 'h' && e.status !== 202) {
      refused.set(String(e.status), (refused.get(String(e.status)) ?? 0) + (e.ns as number[]).length);
      for (const n of e.ns as number[]) pending.delete(n);
    } else if (e.t === 'b') {
      const b = e as unknown as (typeof bad)[number];
      bad.push(b);
      const s = b.status;
      // A server may answer 413 and close before the client has sent a huge body: the client sees a reset.
      const refusedEarly = b.kind === 'huge' && s === 'error: fetch failed';
      const ok =
        b.ch === 'mqtt'
          ? s === 'published'
          : b.expect === 'refuse'
            ? refusedEarly || (typeof s === 'number' && s >= 400 && s < 500)
            : b.expect === 'accept'
              ? s === 202
              : s === 202 || (typeof s === 'number' && s >= 400 && s < 500);
      if (!ok) badWrong.push(`${b.ch} ${b.kind}: ${s} (expected ${b.expect})`);
    } else if (e.t === 'tel') tel = e as unknown as typeof tel;
    else if (e.t === 'e') publishErrors++;
    else if (e.t === 'burst') console.log(`  burst: ${e.size} alarm raises in area ${e.area} at ${fmt(minutes(), 1)} min`);
  });
});

// Central goes down and comes back.
let centralUp = true;
const outageEnd = new Promise<void>((resolve) => {
  setTimeout(() => {
    void central.pause().then(() => ((centralUp = false), console.log(`  central DOWN at ${fmt(minutes(), 1)} min`)));
    setTimeout(() => void central.resume().then(() => ((centralUp = true), console.log(`  central UP at ${fmt(minutes(), 1)} min`), resolve())), o.outageMs);
  }, o.outageStartMs);
});

// Samples of the gateway every `sample`, a line every minute.
const samples: Sample[] = [];
let scrapeFailures = 0;
let lastCpu = { t: epoch(), s: cpuSeconds(andon.pid) };
const sampler = setInterval(() => {
  void (async () => {
    if (gatewayExit) return;
    const text = await scrape(andon.url);
    if (!text || gatewayExit) return void scrapeFailures++;
    const now = { t: epoch(), s: cpuSeconds(andon.pid) };
    samples.push(sampleOf(text, minutes(), ((now.s - lastCpu.s) / ((now.t - lastCpu.t) / 1000)) * 100));
    lastCpu = now;
  })();
}, o.sampleMs);
let shown = { samples: 0, latencies: 0, alarms: 0, tel: 0, bad: 0 };
const minuteLines: string[] = [];
let lastSignals = { min: 0, n: 0 };
let lastPrintMin = 0;
const printMinute = () => {
  lastPrintMin = minutes();
  const newest = samples.at(-1);
  const accepted = newest && newest.min > lastSignals.min ? (newest.signals - lastSignals.n) / ((newest.min - lastSignals.min) * 60) : NaN;
  if (newest) lastSignals = { min: newest.min, n: newest.signals };
  const oldest = Math.min(...[...pending.values()].map((r) => r.at));
  const line = minuteLine({
    min: minutes(),
    samples: samples.slice(shown.samples),
    latencies: latencies.slice(shown.latencies).map((l) => l.ms),
    alarms: alarms - shown.alarms,
    telemetry: tel.sent - shown.tel,
    accepted,
    bad: bad.length - shown.bad,
    unseen: pending.size,
    oldestUnseenMs: epoch() - oldest,
    goodRefused: [...refused.values()].reduce((a, b) => a + b, 0),
    centralUp,
    board: { connected: boardSummary(board).connected, clients: board.length, cuts: boardSummary(board).cuts },
  });
  shown = { samples: samples.length, latencies: latencies.length, alarms, tel: tel.sent, bad: bad.length };
  minuteLines.push(line);
  console.log(line + (gatewayExit ? `  GATEWAY ${gatewayExit.toUpperCase()}` : ''));
};
const ticker = setInterval(printMinute, 60_000);
andon.child.once('exit', () => load.kill('SIGTERM'));

await loadDone;
const loadMin = minutes();
if (loadMin - lastPrintMin > 0.1) printMinute();
clearInterval(ticker);

// After the load: every raise seen, central back, the outbox empty; then the checks.
const settleUntil = epoch() + 60_000;
while (pending.size > 0 && !gatewayExit && epoch() < settleUntil) await sleep(250);
if (!gatewayExit && !centralUp) await outageEnd;
const result = await finish({
  andon,
  central,
  board,
  raised,
  gatewayExit: () => gatewayExit,
  centralOrder,
  drainTimeoutMs: o.drainTimeoutMs,
});
clearInterval(sampler);
for (const c of board) c.stop();
stopping = true;
await stopChild(andon.child, 15_000);
await central.stop();
if ('proc' in broker) await broker.stop();
else await broker.close();

// The chart and the summary.
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const allMin = minutes();
const latencyP99PerSample = samples.map((s, i): [number, number] => {
  const from = i === 0 ? 0 : (samples[i - 1] as Sample).min;
  return [
    s.min,
    pct(
      latencies.filter((l) => l.seenMin > from && l.seenMin <= s.min).map((l) => l.ms),
      0.99,
    ),
  ];
});
const svg = chartSvg(
  `andon soak: ${fmt(p.analog.length + p.alarms.length)} tags, ${o.clients} board clients, ${fmt(loadMin, 1)} min (${stamp})`,
  [
    { title: 'gateway RSS', unit: 'MiB', points: samples.map((s) => [s.min, s.rssMiB]), colour: '#1f77b4' },
    { title: 'event-loop lag p99 (per scrape)', unit: 'ms', points: samples.map((s) => [s.min, s.lagP99Ms]), colour: '#ff7f0e' },
    { title: 'signal → ticket on the board, p99 per scrape interval', unit: 'ms', points: latencyP99PerSample, colour: '#2ca02c' },
  ],
  allMin,
  [o.outageStartMs / 60_000, (o.outageStartMs + o.outageMs) / 60_000],
);
let chart: string;
try {
  chart = await writeChart(svg, join(OUT, `soak-${stamp}.png`));
} catch (err) {
  chart = `not written (${(err as Error).message.split('\n')[0]}); SVG at ${join(OUT, `soak-${stamp}.svg`)}`;
}
const all = latencies.map((l) => l.ms);
const byCh = (ch: string) => latencies.filter((l) => l.ch === ch).map((l) => l.ms);
const summary = {
  options: o,
  tags: p.analog.length + p.alarms.length,
  minutes: loadMin,
  rssMiB: { first: samples[0]?.rssMiB, last: samples.at(-1)?.rssMiB, max: Math.max(...samples.map((s) => s.rssMiB)) },
  lagP99Ms: {
    median: pct(
      samples.map((s) => s.lagP99Ms),
      0.5,
    ),
    max: Math.max(...samples.map((s) => s.lagP99Ms)),
  },
  signalToTicketMs: {
    n: all.length,
    p50: pct(all, 0.5),
    p99: pct(all, 0.99),
    max: Math.max(...all),
    mqttP99: pct(byCh('mqtt'), 0.99),
    httpP99: pct(byCh('http'), 0.99),
  },
  telemetry: tel,
  alarms,
  raisedKeys: raised.size,
  unseenRaises: pending.size,
  goodRefused: Object.fromEntries(refused),
  publishErrors,
  badInputs: bad.length,
  badMishandled: badWrong,
  badByKind: Object.fromEntries(tally(bad.map((b) => `${b.ch} ${b.kind} → ${b.status}`))),
  scrapeFailures,
  ...result,
  chart,
};
writeFileSync(join(OUT, `soak-${stamp}.json`), JSON.stringify({ ...summary, minuteLines, samples }, null, 1));
const problems = result.problems;
if (pending.size > 0) problems.push(`${pending.size} alarm raises never showed on the board`);
if (refused.size > 0) problems.push(`good signals refused: ${[...refused].map(([s, n]) => `${n} × ${s}`).join(', ')}`);
if (badWrong.length > 0) problems.push(`${badWrong.length} bad inputs mishandled: ${[...tally(badWrong)].map(([k, n]) => `${k} ×${n}`).join('; ')}`);
if (gatewayExit) problems.push(`the gateway ${gatewayExit}`);
else if (stopExit !== '0') problems.push(`the gateway did not stop cleanly on SIGTERM (${stopExit})`);
console.log(`
== bench/soak summary (${fmt(loadMin, 1)} min of load) ==
gateway RSS ${fmt(summary.rssMiB.first ?? NaN)} → ${fmt(summary.rssMiB.last ?? NaN)} MiB (max ${fmt(summary.rssMiB.max)}); event-loop lag p99 median ${ms(summary.lagP99Ms.median)}, max ${ms(summary.lagP99Ms.max)}; /metrics unanswered ${scrapeFailures}×
signal → ticket on the board: p50 ${ms(summary.signalToTicketMs.p50)}, p99 ${ms(summary.signalToTicketMs.p99)}, max ${ms(summary.signalToTicketMs.max)} (n ${fmt(all.length)}; p99 mqtt ${ms(summary.signalToTicketMs.mqttP99)}, http ${ms(summary.signalToTicketMs.httpP99)})
bad inputs (what the load saw): ${Object.entries(summary.badByKind)
  .map(([k, n]) => `${k} ×${n}`)
  .join(', ')}
load: ${fmt(tel.sent)} telemetry (${fmt(tel.skipped)} skipped: broker backlog; ${tel.inflight} unacknowledged at the end), ${fmt(alarms)} alarm signals over ${fmt(raised.size)} keys, ${bad.length} bad inputs; ${pending.size} raises unseen
${result.lines.join('\n')}
chart: ${chart}
${problems.length === 0 ? 'bench/soak: OK — lost 0, duplicates 0' : `bench/soak: FAILED\n  - ${problems.join('\n  - ')}`}`);
if (o.keep || problems.length > 0) console.log(`kept (config, andon.log, load.log, andon.sqlite): ${tmp.dir}`);
else tmp.remove();
process.exit(problems.length === 0 ? 0 : 1);
