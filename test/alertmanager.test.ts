import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../config/load.ts';
import { freePort, startAedes, type AedesBroker } from '../connectors/mqtt/fixtures/brokers.ts';
import { startGateway } from '../gateway/main.ts';
import { peer } from './peers.ts';

/**
 * Light a stack light from Alertmanager, end to end with real peers: the
 * example dashboards/alertmanager/alertmanager.yml (only its URL, token file
 * and timings changed) runs in a real Alertmanager, which posts to a running
 * gateway; an Andon rule opens a ticket and an action publishes the light's
 * state to a real MQTT broker. Resolving the alert clears the condition;
 * acknowledging the ticket turns the light off.
 */
const EXAMPLE = fileURLToPath(new URL('../dashboards/alertmanager/alertmanager.yml', import.meta.url));
const hasAlertmanager = peer('alertmanager', ['prometheus-alertmanager', '--version'], 'apt-get install -y --no-install-recommends prometheus-alertmanager');
const INGEST = 'ingest-token-alertmanager-e2e';
const OPERATOR = 'operator-token-alertmanager-e2e';
const WAIT = 30_000;

describe.skipIf(!hasAlertmanager)('Alertmanager lights a stack light through Andon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-am-'));
  let broker: AedesBroker;
  let light: mqtt.MqttClient;
  const lightStates: string[] = [];
  let lightChanged: (() => void) | undefined;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let am: ChildProcess | undefined;
  let amUrl = '';

  /** Resolves once the light has published `state` (now or later). */
  const lightIs = (state: 'true' | 'false') =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the light never went ${state}; it went ${lightStates.join(', ') || 'nowhere'}`)), WAIT);
      const check = () => {
        if (lightStates.at(-1) === state) {
          clearTimeout(timer);
          lightChanged = undefined;
          resolve();
        }
      };
      lightChanged = check;
      check();
    });

  beforeAll(async () => {
    broker = await startAedes();
    light = mqtt.connect(broker.url, { clientId: 'stack-light' });
    light.on('message', (_topic, payload) => {
      lightStates.push(payload.toString());
      lightChanged?.();
    });
    await light.subscribeAsync('andon/stack-light/blue', { qos: 1 });

    const config = parseConfig(`
gateway:
  id: am-e2e
  dataDir: ${dir}/andon
  auth:
    tokens:
      - { name: alertmanager, role: ingest, token: ${INGEST} }
      - { name: wang, role: operator, token: ${OPERATOR} }
sources:
  - { id: alertmanager, type: http }
  - id: plant-mqtt
    type: mqtt
    url: ${broker.url}
    subscriptions: [ { topic: "plant/+/+/#", tag: "{1}/{2}/{3}", value: $.v } ]
rules:
  - { id: it-alerts, when: { tag: "alertmanager/**", equals: true }, fault: monitoring-alert, category: it, priority: P1 }
actions:
  - { on: { fault: monitoring-alert, state: open }, write: { source: plant-mqtt, topic: andon/stack-light/blue, value: true } }
`);
    gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });

    // The example, pointed at this gateway, with a token file and timings for a test.
    const example = parse(readFileSync(EXAMPLE, 'utf8')) as {
      route: { routes: Record<string, unknown>[] };
      receivers: { name: string; webhook_configs?: { url: string; http_config: { authorization: { credentials_file: string } } }[] }[];
    };
    const webhook = example.receivers.find((r) => r.name === 'andon')!.webhook_configs![0]!;
    webhook.url = `${gw.address}/api/v1/alertmanager`;
    writeFileSync(join(dir, 'andon.token'), INGEST);
    webhook.http_config.authorization.credentials_file = join(dir, 'andon.token');
    Object.assign(example.route.routes[0]!, { group_wait: '0s', group_interval: '1s' });
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(example));

    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`alertmanager did not start:\n${log}`)), WAIT);
      am!.stderr!.setEncoding('utf8').on('data', (s: string) => {
        log += s;
        if (/msg="Listening on"/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      am!.once('exit', (code) => reject(new Error(`alertmanager exited with ${code}:\n${log}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill('SIGTERM');
      await once(am, 'exit');
    }
    await light?.endAsync();
    await gw?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sendAlert = async (endsAt?: string) => {
    const alert = {
      labels: { alertname: 'AndonSourceDown', severity: 'critical', source: 'packaging-plc', instance: 'gw-a:8080' },
      annotations: { summary: 'Andon source packaging-plc is down on gw-a:8080' },
      ...(endsAt ? { endsAt } : {}),
    };
    const res = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([alert]) });
    expect(res.status).toBe(200);
  };

  it('the example config passes amtool check-config', async () => {
    const { stdout } = await promisify(execFile)('amtool', ['check-config', EXAMPLE]);
    expect(stdout).toContain('SUCCESS');
  });

  it('a firing alert lights the stack light; resolved, it clears the condition; acknowledged, the light goes off', async () => {
    const cleared = firstValueFrom(
      gw.runtime.engine.changes$.pipe(
        filter((c) => c.event.action === 'cleared'),
        timeout(WAIT),
      ),
    );
    await sendAlert();
    await lightIs('true');
    const ticket = gw.store.liveByKey('AndonSourceDown/monitoring-alert')!;
    expect(ticket).toMatchObject({ state: 'open', condition: 'active', priority: 'P1' });
    expect(ticket.evidence[0]).toMatchObject({ value: true, severity: 900, message: 'Andon source packaging-plc is down on gw-a:8080' });
    expect(ticket.evidence[0]?.tag).toMatch(/^alertmanager\/AndonSourceDown\/[0-9a-f]{16}$/);

    await sendAlert(new Date().toISOString()); // resolved now
    expect((await cleared).ticket).toMatchObject({ id: ticket.id, condition: 'cleared', state: 'open' });
    expect(lightStates.at(-1)).toBe('true'); // a person still has to look at it

    const ack = await fetch(`${gw.address}/api/v1/tickets/${ticket.id}/transitions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ack', by: 'wang' }),
    });
    expect(ack.status).toBe(200);
    await lightIs('false');
  }, 60_000);
});
