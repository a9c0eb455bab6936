import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseConfig } from '../../config/load.ts';
import { natsInit, NATS_INIT_DEFAULTS } from '../../gateway/forward/nats/init.ts';
import { startGateway } from '../../gateway/main.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { seeded } from '../../gateway/seeded.ts';
import { exited, startAndon } from '../spawn-andon.ts';
import { tempDir } from '../forward/kit.ts';
import { hasNats, startCluster, type NatsCluster } from './cluster.ts';
import { fleetConfigYaml, load, NATS_AUTH, pending, postAlarm, readStream, streamProblems, until, writeFleetConfig } from './fleet-kit.ts';

/**
 * Forwarding to NATS JetStream against a real 3-node nats-server cluster on loopback (stream
 * replicas 3): gateways killed, a NATS node killed, the whole cluster down, a wrong credential,
 * the stream missing at start. What must hold: the stream ends with every ticket's newest version,
 * no (ticket, version) twice, versions of a ticket in order; nothing is lost while NATS cannot take it.
 */
const silent = pino({ level: 'silent' });

/** The newest version of every ticket in the store at `dir`. */
async function storeVersions(dir: string): Promise<Map<string, number>> {
  const store = await TicketStore.open(join(dir, 'andon.sqlite'));
  try {
    return new Map(store.list({ limit: 1_000_000 }).items.map((t) => [t.id, t.version]));
  } finally {
    await store.close();
  }
}

const metric = async (url: string, line: RegExp) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  if (!line.test(text)) throw new Error(`metrics do not match ${String(line)}`);
};

describe.skipIf(!hasNats())('forward type nats against a 3-node nats-server cluster', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let tmp: ReturnType<typeof tempDir>;
  const init = (stream: string, subjectPrefix: string) =>
    natsInit({ type: 'nats', servers: cluster.servers, ...NATS_AUTH, stream, subjectPrefix, timeout: 5_000, concurrency: 1 }, { ...NATS_INIT_DEFAULTS, replicas: 3, changes: false });
  const dirOf = (name: string) => {
    const d = join(tmp.dir, name);
    mkdirSync(d);
    return d;
  };

  beforeAll(async () => {
    tmp = tempDir('nats-faults');
    cluster = await startCluster({ size: 3, auth: NATS_AUTH });
    await cluster.ready();
    nc = await cluster.connect();
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
    tmp?.remove();
  });

  it('two gateways forward while one is SIGKILLed again and again and the stream leader node is SIGKILLed and restarted: every newest version once', { timeout: 90_000 }, async () => {
    await init('FLEET', 'fleet.tickets');
    const random = seeded(15);
    const [dirA, dirB] = [dirOf('gw-a'), dirOf('gw-b')];
    const cfgA = writeFleetConfig({ id: 'gw-a', dir: dirA, servers: cluster.servers, stream: 'FLEET', subjectPrefix: 'fleet.tickets' });
    const stats = { answered: 0 };
    // gw-b runs in this process all along; gw-a is a child process (as a plant runs it), killed again and again.
    const gwB = await startGateway(parseConfig(fleetConfigYaml({ id: 'gw-b', dir: dirB, servers: cluster.servers, stream: 'FLEET', subjectPrefix: 'fleet.tickets' })), { logger: silent });
    const b = { url: gwB.address };
    let bRunning = true;
    const bLoad = load(b.url, random, () => bRunning, stats);

    const leaderName = (await (await jetstreamManager(nc)).streams.info('FLEET')).cluster?.leader;
    const leader = cluster.nodes.findIndex((n) => n.name === leaderName);
    expect(leader).toBeGreaterThanOrEqual(0);
    const KILLS = 3;
    const t0 = performance.now();
    const took: string[] = [];
    const mark = (what: string) => took.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    for (let k = 0; k < KILLS; k++) {
      if (k === 1) await cluster.kill(leader);
      if (k === 2) await cluster.start(leader);
      const a = await startAndon(cfgA);
      let aRunning = true;
      const loops = [load(a.url, random, () => aRunning, stats), load(a.url, random, () => aRunning, stats)];
      await new Promise<void>((r) => setTimeout(r, 300 + Math.floor(random() * 500))); // the kill's random moment
      a.child.kill('SIGKILL');
      aRunning = false;
      await exited(a.child);
      await Promise.all(loops);
      mark(`kill ${k + 1}`);
    }
    bRunning = false;
    await bLoad;
    // A last life of gw-a drains its outbox; gw-b drains too; then both stop politely.
    const a = await startAndon(cfgA);
    for (const url of [a.url, b.url]) {
      await until(async () => {
        const n = await pending(url);
        if (n !== 0) throw new Error(`${n} versions pending`);
      }, 30_000);
    }
    mark('drained');
    a.child.kill('SIGTERM');
    await Promise.all([exited(a.child), gwB.stop()]);

    const msgs = await readStream(nc, 'FLEET');
    const problems = streamProblems(msgs);
    expect(problems.twice).toEqual([]);
    expect(problems.outOfOrder).toEqual([]);
    let tickets = 0;
    for (const [id, dir] of [['gw-a', dirA], ['gw-b', dirB]] as const) {
      const versions = await storeVersions(dir);
      tickets += versions.size;
      const inStream = new Map(msgs.filter((m) => m.subject.startsWith(`fleet.tickets.${id}.`)).map((m) => [m.ticketId, m.version]));
      const behind = [...versions].filter(([t, v]) => problems.newest.get(t) !== v || inStream.get(t) !== v).map(([t, v]) => `${t} v${v} (stream v${problems.newest.get(t) ?? '-'})`);
      expect(behind, id).toEqual([]);
    }
    expect(stats.answered).toBeGreaterThan(100);
    expect(tickets).toBeGreaterThan(20);
    console.info(`nats fleet kill test: ${KILLS} gateway SIGKILLs, stream leader ${leaderName} killed and restarted; ${stats.answered} signals, ${tickets} tickets, ${msgs.length} versions in the stream (${took.join(', ')})`);
  });

  it('the stream missing at start: the gateway starts, takes signals, shows andon_forward_up 0, and drains once andon nats init ran', { timeout: 40_000 }, async () => {
    const dir = dirOf('late');
    const gw = await startGateway(parseConfig(fleetConfigYaml({ id: 'gw-late', dir, servers: cluster.servers, stream: 'LATE', subjectPrefix: 'late.tickets' })), { logger: silent });
    try {
      for (let i = 0; i < 5; i++) expect(await postAlarm(gw.address, i, true)).toBe(true);
      await until(() => metric(gw.address, /^andon_forward_up\{sink="nats"\} 0$/m), 10_000);
      expect(gw.forwarding?.sink.state?.().problem).toBe('stream LATE does not exist (run andon nats init)');
      expect(gw.store.outboxPending()).toBe(5);

      await init('LATE', 'late.tickets');
      await until(async () => expect(gw.store.outboxPending()).toBe(0), 20_000);
      await metric(gw.address, /^andon_forward_up\{sink="nats"\} 1$/m);
      const msgs = await readStream(nc, 'LATE');
      expect(msgs.map((m) => m.msgId).sort()).toEqual([...(await storeVersions(dir)).entries()].map(([t, v]) => `${t}:${v}`).sort());
    } finally {
      await gw.stop();
    }
  });

  it('a wrong credential: a clear error, andon_forward_up 0, nothing lost; the right one drains it all', { timeout: 40_000 }, async () => {
    const dir = dirOf('wrong');
    const yaml = (password: string) => fleetConfigYaml({ id: 'gw-wrong', dir, servers: cluster.servers, password, stream: 'FLEET', subjectPrefix: 'fleet.tickets' });
    let gw = await startGateway(parseConfig(yaml('not-the-password')), { logger: silent });
    try {
      for (let i = 0; i < 4; i++) expect(await postAlarm(gw.address, i, true)).toBe(true);
      await until(() => metric(gw.address, /^andon_forward_up\{sink="nats"\} 0$/m), 10_000);
      expect(gw.forwarding?.sink.state?.().problem).toMatch(/cannot connect to NATS .*Authorization Violation/i);
      expect(gw.store.outboxPending()).toBe(4);
      expect(gw.store.outbox.parked()).toBe(0);
    } finally {
      await gw.stop();
    }
    gw = await startGateway(parseConfig(yaml(NATS_AUTH.password)), { logger: silent });
    try {
      await until(async () => expect(gw.store.outboxPending()).toBe(0), 20_000);
      await metric(gw.address, /^andon_forward_up\{sink="nats"\} 1$/m);
    } finally {
      await gw.stop();
    }
  });

  it('the whole cluster down for a while: versions wait in the outbox, then drain in order', { timeout: 60_000 }, async () => {
    await init('DOWN', 'down.tickets');
    const dir = dirOf('down');
    const gw = await startGateway(parseConfig(fleetConfigYaml({ id: 'gw-down', dir, servers: cluster.servers, stream: 'DOWN', subjectPrefix: 'down.tickets' })), { logger: silent });
    try {
      expect(await postAlarm(gw.address, 1, true)).toBe(true);
      await until(async () => expect(gw.store.outboxPending()).toBe(0), 10_000);

      await cluster.stopAll();
      // Several versions of a few tickets while no node answers.
      for (let round = 0; round < 4; round++) for (let i = 0; i < 3; i++) expect(await postAlarm(gw.address, i, round % 2 === 1)).toBe(true);
      await until(() => metric(gw.address, /^andon_forward_up\{sink="nats"\} 0$/m), 15_000);
      expect(gw.store.outboxPending()).toBeGreaterThan(3);

      await cluster.startAll();
      await until(async () => expect(gw.store.outboxPending()).toBe(0), 40_000, 200);
      await metric(gw.address, /^andon_forward_up\{sink="nats"\} 1$/m);
      const msgs = await readStream(nc, 'DOWN');
      const problems = streamProblems(msgs);
      expect(problems.twice).toEqual([]);
      expect(problems.outOfOrder).toEqual([]);
      expect(problems.newest).toEqual(await storeVersions(dir));
    } finally {
      await gw.stop();
    }
  });
});
