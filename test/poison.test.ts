import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { get } from 'sparkplug-payload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type AedesBroker } from '../connectors/mqtt/fixtures/brokers.ts';
import { startPlantServer, type PlantServer } from '../connectors/opcua/fixtures/server.ts';
import { parseConfig } from '../config/load.ts';
import { startGateway } from '../gateway/main.ts';

/**
 * Nothing poisons the pipeline (issue 11): a signal whose timestamp cannot be
 * a date (`ts: 1e300`) used to make the engine throw, the runtime held it as a
 * store outage, and every later signal was answered 503 until a restart. Now
 * each entry point checks the time: HTTP refuses it (400, counted as `time`),
 * MQTT JSON and Sparkplug B take the arrival time and count it; the next alarm
 * opens its ticket, people's actions work and /readyz stays ready.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-poison-'));
const INGEST = 'ingest-token-poison-test';
const OPERATOR = 'operator-token-poison-test';
const spb = get('spBv1.0')!;
let broker: AedesBroker;
let plc: PlantServer;
let gw: Awaited<ReturnType<typeof startGateway>>;
let client: MqttClient;

beforeAll(async () => {
  broker = await startAedes();
  plc = await startPlantServer({ pkiDir: join(dir, 'server-pki') });
  const config = parseConfig(`
gateway:
  id: poison
  dataDir: ${dir}
  auth: { tokens: [ { name: mes, role: ingest, token: ${INGEST} }, { name: wang, role: operator, token: ${OPERATOR} } ] }
sources:
  - { id: mes-http, type: http }
  - id: mes
    type: mqtt
    url: ${broker.url}
    subscriptions:
      - { topic: "mes/+/alarms", format: json, tag: "line/{1}/alarm/{code}", value: "$.active", ts: "$.ts", asset: "{1}", qos: 1 }
      - { topic: "spBv1.0/plant-a/#", format: sparkplug, qos: 1 }
  - id: plc
    type: opcua
    endpoint: ${plc.endpoint}
    publishingInterval: 100ms
    samplingInterval: 100ms
    tags: [ { tag: packaging/sealer-01/temperature, nodeId: "ns=1;s=Sealer01.Temperature", asset: sealer-01 } ]
rules:
  - { id: hot, when: { tag: "**/temperature", above: 80, clearBelow: 78 }, fault: overtemp, priority: P2 }
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
`);
  gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
  client = await connectAsync(broker.url);
}, 60_000);

afterAll(async () => {
  await client?.endAsync();
  await gw?.stop();
  await broker?.close();
  await plc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ticketOf = (key: string) =>
  firstValueFrom(
    gw.runtime.engine.changes$.pipe(
      filter((c) => c.ticket.key === key),
      timeout(15_000),
    ),
  );
const post = (path: string, body: unknown, token = INGEST) =>
  fetch(`${gw.address}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${gw.address}/metrics`)).text())?.[1] ?? NaN);

describe('a bad timestamp does not poison the pipeline', () => {
  it('HTTP: ts 1e300 is refused (400, reason time); the next alarm opens its ticket and operators can act', async () => {
    const bad = await post('/api/v1/signals', { tag: 'line/press-1/alarm/E1', value: true, ts: 1e300 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'ANDON_SIGNAL_INVALID' });
    for (const ts of ['not a time', '1999-12-31T23:59:59Z', Date.now() + 3_600_000]) {
      expect((await post('/api/v1/signals', [{ tag: 'line/press-1/alarm/E1', value: true, ts }])).status).toBe(400);
    }
    expect(await metric(/andon_signals_rejected_total\{source="mes-http",reason="time"} (\d+)/)).toBe(4);

    const opened = ticketOf('press-2/alarm-stop');
    expect((await post('/api/v1/signals', { tag: 'line/press-2/alarm/E1', value: true, ts: Date.now() })).status).toBe(202);
    const { ticket } = await opened;
    expect(gw.store.liveByKey('press-1/alarm-stop')).toBeUndefined();
    const ack = await post(`/api/v1/tickets/${ticket.id}/transitions`, { action: 'ack' }, OPERATOR);
    expect(ack.status).toBe(200);
    expect((await fetch(`${gw.address}/readyz`)).status).toBe(200);
    expect(gw.runtime.held()).toBe(0);
  });

  it('MQTT JSON: a bad ts takes the arrival time and is counted; the next alarm opens its ticket', async () => {
    const first = ticketOf('press-3/alarm-stop');
    const second = ticketOf('press-4/alarm-stop');
    const before = Date.now();
    await client.publishAsync('mes/press-3/alarms', JSON.stringify({ code: 'E1', active: true, ts: 1e300 }), { qos: 1 });
    await client.publishAsync('mes/press-4/alarms', JSON.stringify({ code: 'E1', active: true, ts: new Date().toISOString() }), { qos: 1 });
    const bad = (await first).ticket;
    expect(Date.parse(bad.evidence[0]!.ts)).toBeGreaterThanOrEqual(before - 1_000);
    expect((await second).ticket.state).toBe('open');
    expect(await metric(/andon_signal_time_replaced_total\{source="mes"} (\d+)/)).toBe(1);
  });

  it('Sparkplug B: a payload dated in year 3000 takes the arrival time; the next alarm opens its ticket', async () => {
    const first = ticketOf('node-1/alarm-stop');
    const second = ticketOf('node-2/alarm-stop');
    const year3000 = Date.UTC(3000, 0, 1);
    const birth = (node: string, timestamp: number) =>
      client.publishAsync(
        `spBv1.0/plant-a/NBIRTH/${node}`,
        Buffer.from(spb.encodePayload({ timestamp, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, { name: 'alarm/E1', type: 'Boolean', value: true }] })),
        { qos: 1 },
      );
    await birth('node-1', year3000);
    await birth('node-2', Date.now());
    expect(Date.parse((await first).ticket.evidence[0]!.ts)).toBeLessThan(year3000);
    expect((await second).ticket.state).toBe('open');
    expect(await metric(/andon_signal_time_replaced_total\{source="mes"} (\d+)/)).toBeGreaterThanOrEqual(2);
  });

  it('OPC UA: a value whose sourceTimestamp is 1990 takes the arrival time; over 80 it opens its ticket, back under 78 it clears', async () => {
    const c = gw.sources.connectors.get('plc')!;
    await firstValueFrom(c.status$.pipe(filter((st) => st === 'up'), timeout(15_000)));
    const opened = ticketOf('sealer-01/overtemp');
    const before = Date.now();
    plc.setTemperature(95, undefined, new Date('1990-01-01T00:00:00Z'));
    const { ticket } = await opened;
    expect(Date.parse(ticket.evidence[0]!.ts)).toBeGreaterThanOrEqual(before - 1_000);
    expect(await metric(/andon_signal_time_replaced_total\{source="plc"} (\d+)/)).toBeGreaterThanOrEqual(1);
    const cleared = firstValueFrom(gw.runtime.engine.changes$.pipe(filter((x) => x.ticket.key === 'sealer-01/overtemp' && x.event.action === 'cleared'), timeout(15_000)));
    plc.setTemperature(70);
    expect((await cleared).ticket.condition).toBe('cleared');
  });
});
