import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnAndon } from '../lib/andon-process.ts';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { parseConfig } from '../../config/load.ts';
import { natsInit, NATS_INIT_DEFAULTS } from '../../gateway/forward/nats/init.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { startCluster } from '../../test/nats/cluster.ts';
import { fleetConfigYaml, NATS_AUTH, pending, postAlarm } from '../../test/nats/fleet-kit.ts';
import { tempDir } from '../../test/forward/kit.ts';

/**
 * bench:fleet (bench/fleet/README.md): N `andon start` processes, each with a backlog in its outbox, against a
 * real 3-node nats-server cluster (JetStream, replicas 3); the stream is created when all are up, so all drain
 * at once, while live alarms go in. Then, in the same run, a bare nats.js JetStream publisher (the peer), and
 * the failover time when the stream leader node is SIGKILLed.
 */
const { values: args } = parseArgs({
  options: {
    gateways: { type: 'string', default: '10' },
    tickets: { type: 'string', default: '500' },
    versions: { type: 'string', default: '2' },
    'live-every': { type: 'string', default: '50' },
    replicas: { type: 'string', default: '3' },
  },
});
const N = Number(args.gateways);
const TICKETS = Number(args.tickets);
const VERSIONS = Number(args.versions);
const LIVE_EVERY = Number(args['live-every']);
const STREAM = 'ANDON_TICKETS';
const SUBJECTS = 'andon.tickets';

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** Writes a backlog of TICKETS tickets × VERSIONS versions into the gateway's store (as bench:drain does). */
async function writeBacklog(dir: string, configText: string): Promise<void> {
  const store = await TicketStore.open(join(dir, 'andon.sqlite'));
  const runtime = createRuntime({ config: parseConfig(configText), store, scheduler: new VirtualScheduler(Date.now() - 3_600_000) });
  store.transaction(() => {
    for (let v = 0; v < VERSIONS; v++) for (let i = 0; i < TICKETS; i++) runtime.push({ source: 'mes-http', tag: `area-${i}/m-${i}/alarm/E1`, value: v % 2 === 0, quality: 'good', ts: Date.now() });
  });
  runtime.stop();
  await store.close();
}

function startAndon(configFile: string): Promise<{ child: ChildProcess; url: string }> {
  return spawnAndon(configFile, { logLevel: 'error' });
}

function runBare(servers: string[], template: string, messages: number): Promise<{ rate: number; seconds: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'bare.ts'), '--servers', servers.join(','), '--user', NATS_AUTH.user, '--password', NATS_AUTH.password, '--subject', SUBJECTS, '--template', template, '--messages', String(messages), '--connections', String(N), '--window', '8'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { rate: number; seconds: number }) : reject(new Error(`bare exited with ${code}`))));
  });
}

const tmp = tempDir('bench-fleet');
const cluster = await startCluster({ size: 3, auth: NATS_AUTH });
const children: ChildProcess[] = [];
try {
  await cluster.ready();
  console.log(`bench:fleet: ${N} gateways × ${TICKETS} tickets × ${VERSIONS} versions in the outbox, 3-node cluster (replicas ${args.replicas}); ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}`);

  // 1. N gateways, each with its backlog, started while the stream does not exist yet (versions wait).
  const gws = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const dir = join(tmp.dir, `gw-${i}`);
      mkdirSync(dir);
      const yaml = fleetConfigYaml({ id: `line-${i}`, dir, servers: cluster.servers, extraForward: 'changesStream: NONE' }).replace('checkInterval: 200ms', 'checkInterval: 100ms');
      writeFileSync(join(dir, 'config.yaml'), yaml);
      await writeBacklog(dir, yaml);
      return { id: `line-${i}`, dir };
    }),
  );
  const procs = [];
  for (const g of gws) {
    const p = await startAndon(join(g.dir, 'config.yaml'));
    children.push(p.child);
    procs.push({ ...g, ...p });
  }
  console.log(`${N} gateways up, ${N * TICKETS * VERSIONS} versions (${N * TICKETS} tickets) waiting`);

  // 2. The stream appears: every gateway drains at once. A monitor reads the stream (ordered consumer).
  const nc = await cluster.connect();
  await natsInit({ type: 'nats', servers: cluster.servers, ...NATS_AUTH, timeout: 10_000, concurrency: 1 }, { ...NATS_INIT_DEFAULTS, replicas: Number(args.replicas), changes: false });
  const t0 = performance.now();
  const posted = new Map<string, number>();
  const latencies: number[] = [];
  let backlogSeen = 0;
  let firstAt = 0;
  let lastBacklogAt = 0;
  let template = '';
  const expected = N * TICKETS;
  const consumer = await jetstream(nc).consumers.get(STREAM, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  const monitor = (async () => {
    for await (const m of messages) {
      const now = performance.now();
      const text = m.string();
      const live = /"asset":"kp-(\d+)"/.exec(text);
      const gw = m.subject.split('.')[2] ?? '';
      if (live) {
        const at = posted.get(`${gw}/${live[1]}`);
        if (at !== undefined && m.json<{ version: number }>().version === 1) latencies.push(now - at);
      } else if (!gw.startsWith('bare-') && gw !== 'failover') {
        if (backlogSeen === 0) firstAt = now;
        if (!template) template = text;
        if (++backlogSeen === expected) lastBacklogAt = now;
      }
    }
  })();

  // Live alarms, round-robin over the gateways, until the backlog is in the stream.
  let k = 0;
  while (lastBacklogAt === 0) {
    const g = procs[k % N] as (typeof procs)[number];
    // A new asset each time (area-<n>/kp-<n>): a new ticket, version 1.
    posted.set(`${g.id}/${100_000 + k}`, performance.now());
    void postAlarm(g.url, 100_000 + k, true);
    k++;
    await new Promise((r) => setTimeout(r, LIVE_EVERY));
    if (performance.now() - t0 > 600_000) throw new Error(`the drain did not end in 10 minutes (${backlogSeen}/${expected})`);
  }
  const drainSeconds = (lastBacklogAt - firstAt) / 1000;
  const liveSent = k;
  for (const p of procs) while ((await pending(p.url)) > 0) await new Promise((r) => setTimeout(r, 100));
  await messages.close();
  await monitor;
  const rate = expected / drainSeconds;
  console.log(`drain: ${expected} tickets (${expected * VERSIONS} versions) into the stream in ${fmt(drainSeconds, 1)} s = ${fmt(rate)} msg/s; live alarms ${latencies.length}/${liveSent} seen, p50 ${fmt(pct(latencies, 50))} ms, p99 ${fmt(pct(latencies, 99))} ms`);

  // 3. The peer, in the same run: a bare nats.js publisher with JetStream acks, N connections × 8 in flight.
  const bare = await runBare(cluster.servers, template, expected);
  console.log(`bare nats.js: ${expected} messages in ${fmt(bare.seconds, 1)} s = ${fmt(bare.rate)} msg/s (the same ${Buffer.byteLength(template)}-byte ticket version each)`);

  // 4. Failover: a publisher acks one by one; the stream leader is SIGKILLed; time to the next ack.
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const leaderName = (await jsm.streams.info(STREAM)).cluster?.leader;
  const leader = cluster.nodes.findIndex((n) => n.name === leaderName);
  let killedAt = 0;
  let failover = NaN;
  for (let i = 0; i < 100_000 && Number.isNaN(failover); i++) {
    if (i === 200) {
      killedAt = performance.now();
      void cluster.kill(leader);
    }
    try {
      await js.publish(`${SUBJECTS}.failover.T${i}`, template, { msgID: `failover-${i}`, timeout: 1_000 });
      if (killedAt > 0 && i > 200) failover = performance.now() - killedAt;
    } catch {
      // no ack: the stream is electing a new leader
    }
  }
  const newLeader = (await jsm.streams.info(STREAM)).cluster?.leader;
  await cluster.start(leader);
  console.log(`failover: stream leader ${leaderName} SIGKILLed, next ack after ${fmt(failover)} ms (new leader ${newLeader})`);
  await nc.close();

  const result = { payloadBytes: Buffer.byteLength(template), gateways: N, tickets: expected, versions: expected * VERSIONS, drainSeconds, rate, bareRate: bare.rate, ratio: rate / bare.rate, live: { n: latencies.length, sent: liveSent, p50: pct(latencies, 50), p99: pct(latencies, 99) }, failoverMs: failover, load: loadavg()[0] };
  mkdirSync(join(import.meta.dirname, 'out'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'out', `result-n${N}.json`), JSON.stringify(result, null, 2));
  console.log('\n| gateways | tickets (versions) | andon msg/s | bare nats.js msg/s | andon / bare | live alarm → stream p50 / p99 (ms) | failover (ms) |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| ${N} | ${expected} (${expected * VERSIONS}) | ${fmt(rate)} | ${fmt(bare.rate)} | ${fmt(result.ratio, 2)}× | ${fmt(result.live.p50)} / ${fmt(result.live.p99)} | ${fmt(failover)} |`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())))));
  await cluster.stop();
  tmp.remove();
}
