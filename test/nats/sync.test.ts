import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseConfig } from '../../config/load.ts';
import { natsInit, NATS_INIT_DEFAULTS } from '../../gateway/forward/nats/init.ts';
import { startGateway } from '../../gateway/main.ts';
import { tempDir } from '../forward/kit.ts';
import { hasNats, startCluster, type NatsCluster } from './cluster.ts';
import { fleetConfigYaml, NATS_AUTH, postAlarm, until } from './fleet-kit.ts';

/** Sync back over NATS: central publishes a gateway's changes to andon.changes.<gateway id> on ANDON_CHANGES. */
describe.skipIf(!hasNats())('sync back over NATS', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('nats-sync');
    cluster = await startCluster({ size: 1, auth: NATS_AUTH });
    await cluster.ready();
    nc = await cluster.connect();
    await natsInit({ type: 'nats', servers: cluster.servers, ...NATS_AUTH, timeout: 5_000, concurrency: 1 }, { ...NATS_INIT_DEFAULTS, replicas: 1 });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
    tmp?.remove();
  });

  it('applies central changes as POST /api/v1/sync does, records refusals, and acks each only after its commit', { timeout: 30_000 }, async () => {
    const gw = await startGateway(parseConfig(fleetConfigYaml({ id: 'line-7', dir: tmp.dir, servers: cluster.servers })), { logger: pino({ level: 'silent' }) });
    try {
      expect(await postAlarm(gw.address, 1, true)).toBe(true);
      const t = gw.store.liveByKey('kp-1/alarm-stop');
      expect(t).toBeDefined();
      const js = jetstream(nc);
      await js.publish('andon.changes.line-7', JSON.stringify({ ticketId: t?.id, action: 'assign', by: 'wang', at: Date.now(), fields: { assignee: 'wang', occurrences: 99 } }));
      await js.publish('andon.changes.line-7', JSON.stringify({ ticketId: t?.id, action: 'delete', by: 'wang', at: Date.now(), fields: {} }));
      await js.publish('andon.changes.line-7', 'not json');
      await js.publish('andon.changes.other-line', JSON.stringify({ ticketId: t?.id, action: 'resolve', by: 'x', at: Date.now(), fields: {} }));

      await until(async () => expect(gw.store.get(t?.id ?? '')?.assignee).toBe('wang'), 15_000);
      await until(async () => expect(gw.store.syncLog.count()).toBe(1), 5_000);
      expect(gw.store.syncLog.list()[0]).toMatchObject({ ticketId: t?.id, action: 'delete', code: 'ANDON_FORWARD_SYNC_NOT_ALLOWED', source: 'push' });
      // The other gateway's change is not for this one; occurrences are the gateway's, not central's.
      expect(gw.store.get(t?.id ?? '')).toMatchObject({ state: 'open', occurrences: 1 });
      const consumer = await (await jetstreamManager(nc)).consumers.info('ANDON_CHANGES', 'andon-line-7');
      await until(async () => {
        const c = await (await jetstreamManager(nc)).consumers.info('ANDON_CHANGES', 'andon-line-7');
        expect({ pending: c.num_pending, unacked: c.num_ack_pending }).toEqual({ pending: 0, unacked: 0 });
      }, 5_000);
      expect(consumer.config.filter_subject).toBe('andon.changes.line-7');
      expect(await (await fetch(`${gw.address}/metrics`)).text()).toMatch(/^andon_sync_changes_total\{outcome="refused"\} 1$/m);
    } finally {
      await gw.stop();
    }
  });
});
