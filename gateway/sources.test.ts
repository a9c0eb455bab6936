import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import Database from 'better-sqlite3';
import { asyncScheduler, BehaviorSubject, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAedes } from '../connectors/mqtt/fixtures/brokers.ts';
import { testClient } from '../connectors/mqtt/fixtures/harness.ts';
import type { Connector, ConnectorStatus } from '../connectors/connector.ts';
import { parseConfig } from '../config/load.ts';
import type { Signal } from '../model/signal.ts';
import { createMetrics } from './metrics.ts';
import { createRuntime } from './runtime.ts';
import { createConnectors, wireSources } from './sources.ts';
import { TicketStore } from './store/store.ts';

/**
 * How the gateway takes a protocol connector's signals (gateway/sources.ts wireSources): one commit per
 * signal for a connector whose peer waits for it (MQTT QoS 1), one per synchronous run of signals for
 * one that `commitsTogether` (a Modbus poll, an OPC UA publish response).
 */

const config = parseConfig(`
gateway: { id: sources-test }
sources:
  - { id: plc, type: modbus, host: 127.0.0.1, port: 1502, registers: [ { tag: hall/m-0000/alarm/a0, table: coil, address: 0 } ] }
assets:
${Array.from({ length: 100 }, (_, i) => `  m-${String(i).padStart(4, '0')}: { area: hall, tags: ["hall/m-${String(i).padStart(4, '0')}/**"] }`).join('\n')}
rules:
  - { id: alarm, when: { tag: "**/alarm/*", equals: true }, fault: machine-alarm, priority: P1 }
correlation:
  flood: { count: 10, within: 10m, per: area }
`);

/** A connector the test drives: `emit` hands signals over as a protocol connector's loop would. */
function fakeConnector(commitsTogether: boolean) {
  const signals = new Subject<Signal>();
  const connector: Connector = {
    id: 'plc',
    signals$: signals.asObservable(),
    status$: new BehaviorSubject<ConnectorStatus>('up').asObservable(),
    start: async () => undefined,
    stop: async () => signals.complete(),
    ...(commitsTogether ? { commitsTogether } : {}),
  };
  return { connector, emit: (s: Signal) => signals.next(s) };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'andon-sources-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function wired(commitsTogether: boolean) {
  const store = await TicketStore.open(join(dir, `andon-${commitsTogether}.sqlite`));
  const runtime = createRuntime({ config, store, scheduler: asyncScheduler });
  const registry = new Registry();
  const metrics = createMetrics(registry, store);
  const fake = fakeConnector(commitsTogether);
  const sources = wireSources(config, new Map([['plc', fake.connector]]), runtime, metrics, pino({ level: 'silent' }));
  const raise = (i: number): Signal => ({ source: 'plc', tag: `hall/m-${String(i % 100).padStart(4, '0')}/alarm/a${Math.floor(i / 100)}`, value: true, quality: 'good', ts: Date.now() });
  const accepted = async () => (await registry.getSingleMetric('andon_signals_total')?.get())?.values.find((v) => v.labels.source === 'plc')?.value ?? 0;
  return {
    store,
    accepted,
    /** Emits 300 raises over 100 assets of one area, in one synchronous run. */
    raise300() {
      for (let i = 0; i < 300; i++) fake.emit(raise(i));
    },
    async close() {
      await sources.stop();
      runtime.stop();
      await store.close();
    },
  };
}

const flood = (store: TicketStore) => store.list().items.find((t) => t.fault === 'alarm-flood');

/** The flood ticket of the 300 raises, once every one of them went in (and was counted); its version. */
async function allTaken(g: Awaited<ReturnType<typeof wired>>): Promise<number | undefined> {
  const t = flood(g.store);
  expect(t?.members).toHaveLength(300);
  expect(t?.occurrences).toBe(300);
  expect(await g.accepted()).toBe(300);
  return t?.version;
}

describe('wireSources', () => {
  it('a connector that commitsTogether: what it emits in one run commits once, just after the run (an alarm flood: one version of its ticket)', async () => {
    const g = await wired(true);
    try {
      g.raise300();
      // nothing yet: the run has not ended
      expect(g.store.list().total).toBe(0);
      await Promise.resolve();
      // opened with its first members; every later member of the run joined that version
      expect(await allTaken(g)).toBeLessThanOrEqual(2);
    } finally {
      await g.close();
    }
  });

  it('any other connector: each signal is committed when next() returns (the same flood: a version per member)', async () => {
    const g = await wired(false);
    try {
      g.raise300();
      expect(await allTaken(g)).toBeGreaterThan(250);
    } finally {
      await g.close();
    }
  });
});

describe('wireSources with MQTT (QoS 1: the PUBACKs wait for the commit)', () => {
  const mqttConfig = (url: string) =>
    parseConfig(`
gateway: { id: sources-mqtt-test }
sources:
  - id: mes
    type: mqtt
    url: ${url}
    reconnectPeriod: 20ms
    maxReconnectPeriod: 100ms
    subscriptions:
      - { topic: "hall/+/alarm/+", qos: 1, format: json, tag: "hall/{1}/alarm/{2}", value: "$.active" }
assets:
${Array.from({ length: 100 }, (_, i) => `  m-${String(i).padStart(4, '0')}: { area: hall, tags: ["hall/m-${String(i).padStart(4, '0')}/**"] }`).join('\n')}
rules:
  - { id: alarm, when: { tag: "**/alarm/*", equals: true }, fault: machine-alarm, priority: P1 }
correlation:
  flood: { count: 10, within: 10m, per: area }
`);

  async function mqttGateway() {
    const broker = await startAedes();
    const pub = await testClient(broker.url);
    const config = mqttConfig(broker.url);
    const file = join(dir, 'andon-mqtt.sqlite');
    const store = await TicketStore.open(file);
    const runtime = createRuntime({ config, store, scheduler: asyncScheduler });
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const connectors = await createConnectors(config, { log });
    const sources = wireSources(config, connectors, runtime, createMetrics(new Registry(), store), log);
    await sources.start();
    const asset = (i: number) => `m-${String(i % 100).padStart(4, '0')}`;
    return {
      store,
      file,
      lines,
      publish: (i: number) => pub.publishAsync(`hall/${asset(i)}/alarm/a${Math.floor(i / 100)}`, JSON.stringify({ active: true }), { qos: 1 }),
      async close() {
        await sources.stop();
        runtime.stop();
        await store.close();
        await pub.endAsync();
        await broker.close();
      },
    };
  }

  it('an alarm flood of QoS 1 messages commits a corked write of them at a time, not one each, and every message goes in', async () => {
    const g = await mqttGateway();
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => g.publish(i)));
      await vi.waitFor(() => expect(flood(g.store)?.occurrences).toBe(300), { timeout: 10_000 });
      // a version per message would be ~290; the messages of one corked write (64 at most) make one
      expect(flood(g.store)?.version).toBeLessThan(100);
      expect(g.lines.filter((l) => String(l.msg).includes('unacknowledged'))).toEqual([]);
    } finally {
      await g.close();
    }
  });

  it('when the store refuses the commit, the PUBACKs never leave: the broker redelivers, and the alarm goes in once, when the store takes it', async () => {
    const g = await mqttGateway();
    const db = new Database(g.file);
    db.exec("CREATE TRIGGER fail_insert BEFORE INSERT ON tickets WHEN NEW.asset = 'm-0001' BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END");
    try {
      await g.publish(1);
      await vi.waitFor(() => expect(g.lines.filter((l) => String(l.msg).includes('left unacknowledged')).length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
      expect(g.store.list().total).toBe(0);
      db.exec('DROP TRIGGER fail_insert');
      // redelivered: the held raise goes in, and the redelivery raises nothing twice
      await vi.waitFor(() => expect(g.store.list().total).toBe(1), { timeout: 10_000 });
      await g.publish(2);
      await vi.waitFor(() => expect(g.store.list().total).toBe(2), { timeout: 10_000 });
      expect(g.store.list().items.map((t) => t.asset).sort()).toEqual(['m-0001', 'm-0002']);
    } finally {
      db.close();
      await g.close();
    }
  });
});
