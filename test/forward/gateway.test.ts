import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { startGateway } from '../../gateway/main.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { next, tempDir, when } from './kit.ts';

const INGEST = { authorization: 'Bearer ingest-token-0123456789', 'content-type': 'application/json' };
const config = (dataDir: string, centralUrl: string, token: string) =>
  parseConfig(`
gateway:
  id: wired
  dataDir: ${dataDir}
  http: { port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ingest-token-0123456789 } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
forward: { type: http, url: "${centralUrl}", token: "${token}", syncInterval: 100ms }
`);

describe('startGateway with forward configured', () => {
  let tmp: ReturnType<typeof tempDir>;
  let central: Central;
  beforeEach(async () => {
    tmp = tempDir('wired');
    central = await startCentral({ token: 'central-token' });
  });
  afterEach(async () => {
    await central.stop();
    tmp.remove();
  });

  it('forwards a new ticket, counts the request, and takes a change made at central back into the lifecycle', async () => {
    const gw = await startGateway(config(tmp.dir, central.url, 'central-token'), { logger: pino({ level: 'silent' }) });
    try {
      const res = await fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: INGEST, body: JSON.stringify({ tag: 'packaging/sealer-01/alarm/E21', value: true }) });
      expect(res.status).toBe(202);
      const t = gw.store.liveByKey('sealer-01/alarm-stop');
      await when(central.events, 'write', () => central.tickets().get(t?.id ?? '')?.version === 1);

      const resolved = next(gw.runtime.engine.changes$, (c) => c.event.action === 'resolve', 10_000);
      central.act(t?.id ?? '', 'resolve', 'li', { resolution: 'new seal jaw', rootCause: 'worn jaw' });
      expect((await resolved).ticket.state).toBe('resolved');
      await when(central.events, 'write', () => central.tickets().get(t?.id ?? '')?.version === 2);

      const metrics = await (await fetch(`${gw.address}/metrics`)).text();
      expect(metrics).toMatch(/^andon_forward_requests_total\{outcome="ok"\} [12]$/m);
      expect(metrics).toMatch(/^andon_sync_changes_total\{outcome="applied"\} 1$/m);
    } finally {
      await gw.stop();
    }
  });

  it('a token central refuses parks the ticket (contracts §Central API: 4xx other is poison) and alerts through andon_outbox_parked', async () => {
    const gw = await startGateway(config(tmp.dir, central.url, 'wrong-token'), { logger: pino({ level: 'silent' }) });
    try {
      const parked = next(gw.forwarding!.forwarder.deliveries$, (d) => d.outcome === 'poison');
      await fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: INGEST, body: JSON.stringify({ tag: 'packaging/sealer-01/alarm/E21', value: true }) });
      expect((await parked).error).toContain('401');
      expect(await (await fetch(`${gw.address}/metrics`)).text()).toMatch(/^andon_outbox_parked 1$/m);
    } finally {
      await gw.stop();
    }
  });
});
