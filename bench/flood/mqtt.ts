/**
 * bench/flood/mqtt.ts: an alarm flood over MQTT QoS 1. An aedes broker in this process; the gateway's MQTT
 * connector through wireSources into a runtime on a SQLite file, as `andon start` does; one publisher sends
 * `n` alarm raises (JSON, QoS 1, 500 assets of one area) as fast as the broker takes them. It prints how
 * long until the flood ticket holds every raise, and how many ticket changes that made. `off` takes the
 * connector's commitWith away, so each message commits alone before its PUBACK (what it did before), for the
 * comparison.
 *
 *   node --import tsx bench/flood/mqtt.ts [n=5000] [on|off]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { asyncScheduler } from 'rxjs';
import { parseConfig } from '../../config/load.ts';
import { startAedes } from '../../connectors/mqtt/fixtures/brokers.ts';
import { testClient } from '../../connectors/mqtt/fixtures/harness.ts';
import { createMetrics } from '../../gateway/metrics.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { createConnectors, wireSources } from '../../gateway/sources.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { plant } from './plant.ts';

const N = Number(process.argv[2] ?? 5000);
const together = process.argv[3] !== 'off';
const broker = await startAedes();
const asset = (i: number) => `m-${String(i % 500).padStart(4, '0')}`;
const config = parseConfig(
  [
    'gateway: { id: flood-mqtt, timezone: UTC }',
    'sources:',
    `  - { id: mes, type: mqtt, url: "${broker.url}", subscriptions: [ { topic: "hall/+/alarm/+", qos: 1, format: json, tag: "hall/{1}/alarm/{2}", value: "$.active" } ] }`,
    ...plant(500, { count: 50, within: '10s' }).yaml,
  ].join('\n'),
);
const dir = mkdtempSync(join(tmpdir(), 'flood-mqtt-'));
const store = await TicketStore.open(join(dir, 'andon.sqlite'), { warmWal: true });
const runtime = createRuntime({ config, store, scheduler: asyncScheduler });
const log = pino({ level: 'silent' });
const connectors = await createConnectors(config, { log });
if (!together) for (const c of connectors.values()) delete (c as { commitWith?: unknown }).commitWith;
const sources = wireSources(config, connectors, runtime, createMetrics(new Registry(), store), log);
await sources.start();
let changes = 0;
runtime.engine.changes$.subscribe(() => changes++);
const pub = await testClient(broker.url);
const flood = () => store.list().items.find((t) => t.fault === 'alarm-flood');
const t0 = performance.now();
const sent = Promise.all(Array.from({ length: N }, (_, i) => pub.publishAsync(`hall/${asset(i)}/alarm/a${Math.floor(i / 500)}`, '{"active":true}', { qos: 1 })));
for (;;) {
  await new Promise((r) => setTimeout(r, 5));
  if ((flood()?.occurrences ?? 0) >= N - 50 || performance.now() - t0 > 60_000) break;
}
const ms = performance.now() - t0;
await sent;
console.log(
  `${together ? 'commits per corked write' : 'commit per message      '}: ${N} QoS 1 alarm messages → flood ticket with ${flood()?.occurrences} raises after ${ms.toFixed(0)} ms (${Math.round((N / ms) * 1000)} alarms/s; ${changes} ticket changes)`,
);
for (const c of connectors.values()) await c.stop();
runtime.stop();
await store.close();
await pub.endAsync();
await broker.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
