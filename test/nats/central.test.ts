import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { natsInit, NATS_INIT_DEFAULTS } from '../../gateway/forward/nats/init.ts';
import { startGateway } from '../../gateway/main.ts';
import { startCentral } from '../../sim/central/server.ts';
import { startBridge } from '../../gateway/forward/nats/bridge.ts';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../forward/kit.ts';
import { hasNats, startCluster, type NatsCluster } from './cluster.ts';
import { fleetConfigYaml, NATS_AUTH, postAlarm, until } from './fleet-kit.ts';

/** The reference central in JetStream consumer mode: gateways → stream → central, and central's changes back. */
describe.skipIf(!hasNats())('sim/central as a JetStream consumer', () => {
  let cluster: NatsCluster;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('nats-central');
    cluster = await startCluster({ size: 1, auth: NATS_AUTH });
    await cluster.ready();
    await natsInit({ type: 'nats', servers: cluster.servers, ...NATS_AUTH, timeout: 5_000, concurrency: 1 }, { ...NATS_INIT_DEFAULTS, replicas: 1 });
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
    tmp?.remove();
  });

  it('holds every ticket at its newest version, takes a redelivery without a second effect, and its changes reach the gateway', { timeout: 40_000 }, async () => {
    const nats = { servers: cluster.servers, ...NATS_AUTH };
    let central = await startCentral({ nats });
    const gw = await startGateway(parseConfig(fleetConfigYaml({ id: 'line-3', dir: tmp.dir, servers: cluster.servers })), { logger: pino({ level: 'silent' }) });
    try {
      for (let round = 0; round < 3; round++) for (let i = 0; i < 5; i++) expect(await postAlarm(gw.address, i, round !== 1)).toBe(true);
      const newest = () => new Map(gw.store.list({ limit: 100 }).items.map((t) => [t.id, t.version]));
      const atCentral = () => new Map([...central.tickets()].map(([id, t]) => [id, t.version]));
      await until(async () => expect(atCentral()).toEqual(newest()), 20_000);

      // A second central on the same durable consumer after a restart: what was acked is not delivered again.
      await central.stop();
      central = await startCentral({ nats });
      expect(await postAlarm(gw.address, 9, true)).toBe(true);
      await until(async () => expect(central.tickets().size).toBe(1), 10_000);
      expect(central.stats().duplicates).toBe(0);

      const t = gw.store.liveByKey('kp-9/alarm-stop');
      central.act(t?.id ?? '', 'assign', 'zhang', { assignee: 'zhang' });
      await until(async () => expect(gw.store.get(t?.id ?? '')?.assignee).toBe('zhang'), 10_000);
      await until(async () => expect(central.tickets().get(t?.id ?? '')?.ticket.assignee).toBe('zhang'), 10_000);
    } finally {
      await gw.stop();
      await central.stop();
    }
  });

  it('andon bridge: two gateways feed one receiver through the stream, through its own sink, each version once, across a bridge restart', { timeout: 40_000 }, async () => {
    const central = await startCentral({ faults: { slowMs: 2 } });
    const nats = { type: 'nats' as const, servers: cluster.servers, ...NATS_AUTH, timeout: 5_000, concurrency: 1 };
    const gws = await Promise.all(
      ['line-a', 'line-b'].map((id) => {
        const dir = join(tmp.dir, id);
        mkdirSync(dir);
        return startGateway(parseConfig(fleetConfigYaml({ id, dir, servers: cluster.servers, extraForward: 'changesStream: NONE' })), { logger: pino({ level: 'silent' }) });
      }),
    );
    const bridge = () => startBridge({ nats, sink: createHttpSink({ url: central.url, timeout: 2_000 }), durable: 'bridge-test' });
    let b = await bridge();
    try {
      for (const gw of gws) for (let i = 0; i < 4; i++) expect(await postAlarm(gw.address, i, true)).toBe(true);
      const ours = () => new Map([...central.tickets()].filter(([, t]) => String(t.ticket.gateway).startsWith('line-') && t.ticket.gateway !== 'line-3').map(([id, t]) => [id, t.version]));
      await until(async () => expect(ours().size).toBe(8), 15_000);
      await b.stop();
      for (const gw of gws) for (let i = 0; i < 4; i++) expect(await postAlarm(gw.address, i, false)).toBe(true);
      b = await bridge();
      const newest = () => new Map(gws.flatMap((gw) => gw.store.list({ limit: 100 }).items.map((t) => [t.id, t.version] as const)));
      await until(async () => expect(ours()).toEqual(newest()), 15_000);
      expect(central.stats().duplicates).toBe(0);
      expect(central.stats().regressions).toBe(0);
    } finally {
      await b.stop();
      for (const gw of gws) await gw.stop();
      await central.stop();
    }
  });
});
