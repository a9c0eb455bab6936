import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { startGateway } from '../../gateway/main.ts';
import { startCentral } from '../../sim/central/server.ts';
import { tempDir } from './kit.ts';
import { until } from '../nats/fleet-kit.ts';

const INGEST = { authorization: 'Bearer ingest-token-0123456789', 'content-type': 'application/json' };

/** A port nothing listens on (bound, then closed). */
const deadPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('andon_forward_up{sink} for the http sink', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('forward-up');
  });
  afterEach(() => tmp.remove());

  it('is 1 while central answers, 0 while the circuit is open (central does not answer), 1 again once it answers', { timeout: 30_000 }, async () => {
    const port = await deadPort();
    const config = parseConfig(`
gateway:
  id: up-test
  dataDir: ${tmp.dir}
  http: { port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ingest-token-0123456789 } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
forward: { type: http, url: "http://127.0.0.1:${port}", timeout: 500ms, backoff: { base: 20ms, max: 100ms }, syncInterval: 0s }
`);
    const gw = await startGateway(config, { logger: pino({ level: 'silent' }) });
    const up = async () => /^andon_forward_up\{sink="http"\} (\d)$/m.exec(await (await fetch(`${gw.address}/metrics`)).text())?.[1];
    let central: Awaited<ReturnType<typeof startCentral>> | undefined;
    try {
      expect(await up()).toBe('1');
      for (let i = 0; i < 3; i++) await fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: INGEST, body: JSON.stringify({ tag: `a${i}/m${i}/alarm/E1`, value: true }) });
      await until(async () => expect(await up()).toBe('0'), 10_000);
      central = await startCentral({ port });
      gw.forwarding?.forwarder.wake();
      await until(async () => expect(await up()).toBe('1'), 10_000);
      await until(async () => expect(central?.tickets().size).toBe(3), 10_000);
    } finally {
      await gw.stop();
      await central?.stop();
    }
  });
});
