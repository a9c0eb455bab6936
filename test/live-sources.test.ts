import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type AedesBroker } from '../connectors/mqtt/fixtures/brokers.ts';
import { startPlantServer, type PlantServer } from '../connectors/opcua/fixtures/server.ts';
import { parseConfig } from '../config/load.ts';
import { startGateway } from '../gateway/main.ts';

/**
 * `andon start` end to end with real peers: an OPC UA server with an alarm
 * condition and an MQTT broker with an MES publishing alarms. Signals become
 * tickets; acknowledging the ticket acknowledges the OPC UA condition.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-live-sources-'));
let plc: PlantServer;
let broker: AedesBroker;
let gw: Awaited<ReturnType<typeof startGateway>>;
const OPERATOR = 'operator-token-live-sources';

beforeAll(async () => {
  plc = await startPlantServer({ pkiDir: join(dir, 'server-pki') });
  broker = await startAedes();
  const config = parseConfig(`
gateway:
  id: live-sources
  dataDir: ${join(dir, 'data')}
  auth: { tokens: [ { name: wang, role: operator, token: ${OPERATOR} } ] }
sources:
  - id: packaging-plc
    type: opcua
    endpoint: ${plc.endpoint}
    publishingInterval: 100ms
    samplingInterval: 100ms
    tags: [ { tag: packaging/sealer-01/temperature, nodeId: "ns=1;s=Sealer01.Temperature", asset: sealer-01 } ]
    alarms: [ { notifier: "ns=1;s=Sealer01", asset: sealer-01, area: packaging } ]
  - id: mes
    type: mqtt
    url: ${broker.url}
    subscriptions:
      - { topic: "mes/+/alarms", format: json, tag: "packaging/{1}/alarm/{code}", value: "$.active", asset: "{1}" }
      - { topic: "mes/+/temperature", format: json, tag: "packaging/{1}/temperature", value: "$.v", asset: "{1}" }
assets:
  sealer-01: { area: packaging, tags: ["packaging/sealer-01/**"] }
  labeler-02: { area: packaging, tags: ["packaging/labeler-02/**"] }
actions:
  - { on: { priority: P1, area: packaging }, write: { source: packaging-plc, nodeId: "ns=1;s=Andon.Red", value: true } }
rules:
  - { id: alarms, when: { tag: "packaging/*/alarm/**", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
  - { id: hot, when: { tag: "**/temperature", above: 80, clearBelow: 78 }, fault: overtemp, priority: P2 }
`);
  gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
}, 60_000);

afterAll(async () => {
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

describe('andon start with OPC UA and MQTT sources', () => {
  it('is ready once every source was tried, and reports them up', async () => {
    // start() resolved after each source's first attempt; both peers are up, so both must be up now or soon.
    for (const c of gw.sources.connectors.values()) await firstValueFrom(c.status$.pipe(filter((st) => st === 'up'), timeout(15_000)));
    expect((await fetch(`${gw.address}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${gw.address}/metrics`)).text();
    expect(metrics).toMatch(/andon_source_up\{source="packaging-plc"} 1/);
    expect(metrics).toMatch(/andon_source_up\{source="mes"} 1/);
  });

  it('an OPC UA value over the limit opens a ticket', async () => {
    const opened = ticketOf('sealer-01/overtemp');
    plc.setTemperature(85);
    expect((await opened).ticket).toMatchObject({ priority: 'P2', state: 'open', asset: 'sealer-01' });
  });

  it('an MES alarm over MQTT opens a ticket', async () => {
    const opened = ticketOf('labeler-02/alarm-stop');
    const mes = await connectAsync(broker.url);
    await mes.publishAsync('mes/labeler-02/alarms', JSON.stringify({ code: 'L7', active: true }), { qos: 1 });
    await mes.endAsync();
    expect((await opened).ticket).toMatchObject({ priority: 'P1', area: 'packaging', evidence: [expect.objectContaining({ tag: 'packaging/labeler-02/alarm/L7' })] });
  });

  it('an MQTT value of the wrong type for its rule is counted as rejected (reason type), not silently dropped', async () => {
    const rejectedType = async () => Number(/andon_signals_rejected_total\{source="mes",reason="type"} (\d+)/.exec(await (await fetch(`${gw.address}/metrics`)).text())?.[1] ?? 0);
    expect(await rejectedType()).toBe(0);
    const mesConnector = gw.sources.connectors.get('mes');
    if (!mesConnector) throw new Error('no mes connector');
    // The gateway's own subscriber runs first, so once this one sees the signal it has been pushed and checked.
    const seen = firstValueFrom(mesConnector.signals$.pipe(filter((s) => s.tag === 'packaging/labeler-02/temperature'), timeout(15_000)));
    const mes = await connectAsync(broker.url);
    await mes.publishAsync('mes/labeler-02/temperature', JSON.stringify({ v: '92.5' }), { qos: 1 });
    await mes.endAsync();
    expect((await seen).value).toBe('92.5');
    expect(await rejectedType()).toBe(1);
    expect(gw.store.liveByKey('labeler-02/overtemp')).toBeUndefined();
  });

  it('an OPC UA alarm opens a ticket, and acking the ticket acknowledges the condition', async () => {
    const opened = ticketOf('sealer-01/alarm-stop');
    plc.raiseAlarm('seal jaw fault', 700);
    const { ticket } = await opened;
    expect(ticket.evidence[0]).toMatchObject({ tag: 'packaging/sealer-01/alarm/E21', message: 'seal jaw fault', severity: 700 });
    expect(plc.alarmAcked()).toBe(false);
    const acked = new Promise<void>((resolve) => plc.alarm.once('acknowledged', () => resolve()));

    const res = await fetch(`${gw.address}/api/v1/tickets/${ticket.id}/transitions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ack' }),
    });
    expect(res.status).toBe(200);
    await Promise.race([acked, new Promise((_, reject) => setTimeout(() => reject(new Error('condition not acknowledged within 10 s')), 10_000))]);
    expect(plc.alarmAcked()).toBe(true);
  });
});

describe('the live tag view', () => {
  it('GET /api/v1/tags shows the OPC UA and MQTT tags with last value, quality, times, source, asset and the rules they feed', async () => {
    const mesConnector = gw.sources.connectors.get('mes');
    const plcConnector = gw.sources.connectors.get('packaging-plc');
    if (!mesConnector || !plcConnector) throw new Error('no connectors');
    // The gateway's own subscriber runs first: once these see the signals, the view has them.
    const fromMes = firstValueFrom(mesConnector.signals$.pipe(filter((s) => s.tag === 'packaging/labeler-02/temperature' && s.value === 41.5), timeout(15_000)));
    const fromPlc = firstValueFrom(plcConnector.signals$.pipe(filter((s) => s.tag === 'packaging/sealer-01/temperature' && s.value === 63), timeout(15_000)));
    plc.setTemperature(63);
    const mes = await connectAsync(broker.url);
    await mes.publishAsync('mes/labeler-02/temperature', JSON.stringify({ v: 41.5 }), { qos: 1 });
    await mes.endAsync();
    const [plcSignal] = await Promise.all([fromPlc, fromMes]);
    const res = await fetch(`${gw.address}/api/v1/tags?pattern=packaging/*/temperature`, { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Record<string, unknown>[]; total: number; tracked: number; overflow: number };
    expect(body.items).toEqual([
      expect.objectContaining({ tag: 'packaging/labeler-02/temperature', value: 41.5, quality: 'good', source: 'mes', asset: 'labeler-02', area: 'packaging', rules: ['hot'] }),
      expect.objectContaining({ tag: 'packaging/sealer-01/temperature', value: 63, quality: 'good', source: 'packaging-plc', asset: 'sealer-01', area: 'packaging', rules: ['hot'] }),
    ]);
    expect(body.items[1]?.ts).toBe(new Date(plcSignal.ts).toISOString());
    expect(Date.parse(body.items[0]?.arrivedAt as string)).toBeGreaterThanOrEqual(Date.parse(body.items[0]?.ts as string) - 1000);
    expect(body).toMatchObject({ total: 2, overflow: 0 });
    // alarms feed the alarms rule
    const alarms = (await (await fetch(`${gw.address}/api/v1/tags?q=alarm/`, { headers: { authorization: `Bearer ${OPERATOR}` } })).json()) as { items: { tag: string; rules: string[] }[] };
    expect(alarms.items.find((t) => t.tag === 'packaging/labeler-02/alarm/L7')?.rules).toEqual(['alarms']);
    expect(await (await fetch(`${gw.address}/metrics`)).text()).toMatch(/andon_tags_tracked \d+/);
  });
});

describe('actions: the andon light', () => {
  const red = () => plc.andonRed.readValue().value.value as boolean;
  const redBecomes = (want: boolean) =>
    new Promise<void>((resolve, reject) => {
      if (red() === want) return resolve();
      const timer = setTimeout(() => reject(new Error(`andon light did not turn ${want ? 'on' : 'off'} within 10 s`)), 10_000);
      const onChange = () => {
        if (red() !== want) return;
        clearTimeout(timer);
        plc.andonRed.off('value_changed', onChange);
        resolve();
      };
      plc.andonRed.on('value_changed', onChange);
    });

  it('is on while a P1 packaging ticket is open and goes off when none is left', async () => {
    await redBecomes(true);
    const { items } = (await (await fetch(`${gw.address}/api/v1/tickets?priority=P1`, { headers: { authorization: `Bearer ${OPERATOR}` } })).json()) as { items: { id: string; state: string }[] };
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const t of items) {
      const res = await fetch(`${gw.address}/api/v1/tickets/${t.id}/transitions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'resolve', resolution: 'reset', rootCause: 'test' }),
      });
      expect(res.status).toBe(200);
      if (t !== items.at(-1)) expect(red()).toBe(true); // still a matching ticket left
    }
    await redBecomes(false);
  });

  it('goes on again when a resolved ticket\'s fault comes back (reopened after its fix), as for a new ticket', async () => {
    expect(red()).toBe(false);
    const reopened = firstValueFrom(gw.runtime.engine.changes$.pipe(filter((c) => c.ticket.key === 'labeler-02/alarm-stop' && c.event.action === 'reopened'), timeout(15_000)));
    const mes = await connectAsync(broker.url);
    await mes.publishAsync('mes/labeler-02/alarms', JSON.stringify({ code: 'L7', active: false }), { qos: 1 });
    await mes.publishAsync('mes/labeler-02/alarms', JSON.stringify({ code: 'L7', active: true }), { qos: 1 });
    await mes.endAsync();
    expect((await reopened).ticket).toMatchObject({ state: 'open', flags: expect.arrayContaining(['recurred-after-fix']) });
    await redBecomes(true);
  });
});
