import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { main } from '../../gateway/cli.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConfigError, parseConfig } from '../../config/load.ts';
import type { ForwardConfig } from '../../config/schema.ts';
import { createNatsSink } from '../../gateway/forward/nats/index.ts';
import { natsInit, NATS_INIT_DEFAULTS } from '../../gateway/forward/nats/init.ts';
import { ForwardError, type Sink, type SinkState } from '../../gateway/forward/sink.ts';
import { ticketDoc } from '../ticket-fixture.ts';

const ticket = (over: Parameters<typeof ticketDoc>[0]) => ({ ...ticketDoc(over), history: [] });
import { hasNats, startCluster, type NatsCluster } from './cluster.ts';

const problemsOf = (yaml: string) => {
  try {
    parseConfig(yaml);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('forward type nats: config', () => {
  const base = (gw: string, forward: string) => `gateway: { id: "${gw}" }\nforward: ${forward}\n`;
  it('takes servers, credentials as their own keys, stream and subject prefix', () => {
    const c = parseConfig(base('line-1', '{ type: nats, servers: [ "nats://n1:4222", "nats://n2:4222" ], user: andon, password: s3cret-pass, stream: PLANT_A, subjectPrefix: plant-a.tickets }'));
    expect(c.forward).toMatchObject({ type: 'nats', servers: ['nats://n1:4222', 'nats://n2:4222'], user: 'andon', stream: 'PLANT_A', subjectPrefix: 'plant-a.tickets' });
  });
  it('refuses a gateway id that is not a subject token', () => {
    expect(problemsOf(base('plant.line-1', '{ type: nats, servers: [ "nats://n1:4222" ] }'))).toEqual([
      { path: 'gateway.id', code: 'ANDON_CONFIG_INVALID_VALUE', message: expect.stringContaining('not a NATS subject token') },
    ]);
    // the same id is fine for the other sinks
    expect(problemsOf(base('plant.line-1', '{ type: http, url: "http://central:9100" }'))).toEqual([]);
  });
  it('refuses credentials in a server URL, a missing servers, two ways of signing in, and nats keys on other sinks', () => {
    expect(problemsOf(base('l1', '{ type: nats, servers: [ "nats://u:p@n1:4222" ] }'))[0]).toMatchObject({ path: 'forward.servers[0]', code: 'ANDON_CONFIG_INVALID_VALUE' });
    expect(problemsOf(base('l1', '{ type: nats }'))[0]).toMatchObject({ path: 'forward.servers', code: 'ANDON_CONFIG_MISSING' });
    expect(problemsOf(base('l1', '{ type: nats, servers: [ "nats://n1:4222" ], token: abc, user: u, password: p }'))[0]).toMatchObject({ code: 'ANDON_CONFIG_INVALID_VALUE', message: expect.stringContaining('one way to sign in') });
    expect(problemsOf(base('l1', '{ type: http, url: "http://c:1", stream: X }'))[0]).toMatchObject({ path: 'forward.stream', code: 'ANDON_CONFIG_INVALID_VALUE' });
    expect(problemsOf(base('l1', '{ type: http }'))[0]).toMatchObject({ path: 'forward.url', code: 'ANDON_CONFIG_MISSING' });
  });
});

/** Resolves when the sink's state passes `test`, or rejects after `ms`. */
function stateOf(sink: Sink, test: (s: SinkState) => boolean, ms = 10_000): Promise<SinkState> {
  return new Promise((resolve, reject) => {
    const now = sink.state?.() as SinkState;
    if (test(now)) return resolve(now);
    const timer = setTimeout(() => {
      off?.();
      reject(new Error(`sink state not reached in ${ms} ms; now ${JSON.stringify(sink.state?.())}`));
    }, ms);
    const off = sink.onState?.((s) => {
      if (!test(s)) return;
      clearTimeout(timer);
      off?.();
      resolve(s);
    });
  });
}

describe.skipIf(!hasNats())('forward type nats against a real nats-server', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  const sinks: Sink[] = [];
  const forward = (extra: Partial<ForwardConfig> = {}): ForwardConfig => ({ type: 'nats', servers: cluster.servers, timeout: 2_000, concurrency: 4, checkInterval: 100, ...extra });
  const sink = (config: ForwardConfig, gatewayId = 'line-1') => {
    const s = createNatsSink(config, { gatewayId, longestRetryMs: 300_000 });
    sinks.push(s);
    return s;
  };
  beforeAll(async () => {
    cluster = await startCluster({ size: 1, maxPayload: 16_384 });
    await cluster.ready();
    nc = await cluster.connect();
  });
  afterAll(async () => {
    for (const s of sinks) await s.close?.();
    await nc?.close();
    await cluster?.stop();
  });

  it('waits while the stream is missing, then publishes each version once, with Nats-Msg-Id, once andon nats init ran', { timeout: 30_000 }, async () => {
    const s = sink(forward());
    const down = await stateOf(s, (st) => /does not exist/.test(st.problem ?? ''));
    expect(down).toEqual({ up: false, problem: 'stream ANDON_TICKETS does not exist (run andon nats init)' });
    const t = ticket({ id: 'T-1', version: 1 });
    await expect(s.put(t, new AbortController().signal)).rejects.toMatchObject({ kind: 'retry', message: expect.stringContaining('does not exist') });

    await natsInit(forward(), { ...NATS_INIT_DEFAULTS, replicas: 1 });
    await stateOf(s, (st) => st.up);
    expect(await s.put(t, new AbortController().signal)).toEqual({ id: 'T-1', url: null, version: 1 });
    // A resend of the same version (after a kill) is dropped by the stream, and still delivered.
    expect(await s.put(t, new AbortController().signal)).toEqual({ id: 'T-1', url: null, version: 1 });
    await s.put(ticket({ id: 'T-1', version: 2 }), new AbortController().signal);

    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('ANDON_TICKETS');
    expect(info.state.messages).toBe(2);
    const first = await jsm.streams.getMessage('ANDON_TICKETS', { seq: 1 });
    expect(first?.subject).toBe('andon.tickets.line-1.T-1');
    expect(first?.header.get('Nats-Msg-Id')).toBe('T-1:1');
    expect(first?.json()).toMatchObject({ id: 'T-1', version: 1, historyFrom: 0 });
  });

  it('parks a version larger than the server max payload with a clear error', async () => {
    const s = sink(forward());
    await stateOf(s, (st) => st.up);
    const big = ticket({ id: 'T-big', version: 1, title: 'x'.repeat(20_000) });
    const err = await s.put(big, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForwardError);
    expect(err).toMatchObject({ kind: 'poison', message: expect.stringMatching(/T-big v1 is \d+ bytes as JSON, more than the NATS server's max_payload of 16384 bytes/) });
  });

  it('is down while the stream does not take the gateway subjects', async () => {
    const s = sink(forward({ subjectPrefix: 'elsewhere' }));
    const st = await stateOf(s, (x) => /does not take/.test(x.problem ?? ''));
    expect(st.problem).toContain('stream ANDON_TICKETS does not take elsewhere.line-1.>');
  });

  it('takes a stream whose de-duplication window is shorter than the longest retry, with a warning only', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'SHORT', subjects: ['short.>'], duplicate_window: 1_000_000_000 });
    const logs: Record<string, unknown>[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    const s = createNatsSink(forward({ stream: 'SHORT', subjectPrefix: 'short' }), { gatewayId: 'line-1', log, longestRetryMs: 300_000 });
    sinks.push(s);
    await stateOf(s, (x) => x.up);
    expect(logs).toContainEqual(expect.objectContaining({ code: 'ANDON_FORWARD_DOWN', stream: 'SHORT', duplicateWindowMs: 1000, longestRetryMs: 300_000 }));
    expect(await s.put(ticket({ id: 'T-short', version: 1 }), new AbortController().signal)).toMatchObject({ version: 1 });
  });

  it('andon nats init creates the streams with the documented settings, again without change; andon bridge checks its arguments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-nats-cli-'));
    try {
      const file = join(dir, 'plant.yaml');
      writeFileSync(file, `gateway: { id: line-9, dataDir: ${dir} }\nforward: { type: nats, servers: [ "${cluster.servers[0]}" ], stream: CLI_TICKETS, subjectPrefix: cli.tickets, changesStream: CLI_CHANGES }\n`);
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) };
      // ANDON_CHANGES (andon.changes.>) exists already, from the first test: this one makes the ticket stream only.
      expect(await main(['nats', 'init', '--config', file, '--replicas', '1', '--no-changes'], io), err.join('\n')).toBe(0);
      expect(out).toEqual(['created stream CLI_TICKETS: subjects cli.tickets.>, replicas 1, max age 720h, max bytes -1, de-duplication window 120m']);
      out.length = 0;
      expect(await main(['nats', 'init', '--config', file, '--replicas', '1', '--no-changes'], io)).toBe(0);
      expect(out[0]).toMatch(/^updated stream CLI_TICKETS/);
      const info = await (await jetstreamManager(nc)).streams.info('CLI_TICKETS');
      expect(info.config).toMatchObject({ retention: 'limits', max_msgs_per_subject: -1, discard: 'old', duplicate_window: 7_200_000_000_000 });
      expect((await (await jetstreamManager(nc)).streams.info('ANDON_CHANGES')).config).toMatchObject({ subjects: ['andon.changes.>'], max_age: 7 * 86_400_000_000_000 });
      expect(await main(['nats', 'init', '--config', file, '--duplicate-window', '1m'], io)).toBe(2);
      expect(err.at(-1)).toContain('longer than the longest retry');
      expect(await main(['bridge', 'rt', '--nats', file], io)).toBe(2);
      expect(err.at(-1)).toContain('--config');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is down with a clear problem while no server answers', async () => {
    const s = sink(forward({ servers: ['nats://127.0.0.1:1'] }));
    const st = await stateOf(s, (x) => /cannot connect/.test(x.problem ?? ''));
    expect(st.problem).toContain('cannot connect to NATS (nats://127.0.0.1:1)');
  });
});
