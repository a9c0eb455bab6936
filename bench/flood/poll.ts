/**
 * bench/flood/poll.ts: an alarm flood from a poll. A modbus-serial ServerTCP holds `n` coils (500 assets,
 * one area); the gateway's Modbus connector polls them every 100 ms through wireSources into a runtime on a
 * SQLite file, as `andon start` does. All coils turn true at once: how long until the flood ticket holds
 * every raise, and how many ticket changes that made. `off` makes the connector commit each signal alone
 * (what it did before Connector.commitsTogether), for the comparison.
 *
 *   node --import tsx bench/flood/poll.ts [n=2000] [on|off]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerTCP } from 'modbus-serial';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { asyncScheduler } from 'rxjs';
import { parseConfig } from '../../config/load.ts';
import { createMetrics } from '../../gateway/metrics.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { createConnectors, wireSources } from '../../gateway/sources.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { plant } from './plant.ts';

const N = Number(process.argv[2] ?? 2000);
const together = process.argv[3] !== 'off';
const coils = new Array<boolean>(N).fill(false);
const server = new ServerTCP({ getCoil: (a: number) => coils[a] ?? false, getInputRegister: () => 0, getHoldingRegister: () => 0 }, { host: '127.0.0.1', port: 0, unitID: 1 } as never);
await new Promise<void>((r) => (server as unknown as { on: (e: string, f: () => void) => void }).on('initialized', () => r()));
const port = ((server as unknown as { _server: { address(): { port: number } } })._server).address().port;
const asset = (i: number) => `m-${String(i % 500).padStart(4, '0')}`;
const config = parseConfig([
  'gateway: { id: zz, timezone: UTC }',
  'sources:',
  `  - { id: plc, type: modbus, host: 127.0.0.1, port: ${port}, pollInterval: 100ms, registers: [`,
  ...Array.from({ length: N }, (_, i) => `      { tag: hall/${asset(i)}/alarm/c${i}, table: coil, address: ${i} },`),
  '    ] }',
  ...plant(500, { count: 50, within: '10s' }).yaml,
].join('\n'));
const dir = mkdtempSync(join(tmpdir(), 'zz-modbus-'));
const store = await TicketStore.open(join(dir, 'andon.sqlite'), { warmWal: true });
const runtime = createRuntime({ config, store, scheduler: asyncScheduler });
const metrics = createMetrics(new Registry(), store);
const log = pino({ level: 'silent' });
const connectors = await createConnectors(config, { log });
if (!together) for (const c of connectors.values()) (c as { commitsTogether?: boolean }).commitsTogether = false;
const sources = wireSources(config, connectors, runtime, metrics, log);
await sources.start();
await new Promise((r) => setTimeout(r, 500)); // a few polls of all-false
let raised = 0;
runtime.engine.changes$.subscribe(() => raised++);
const t0 = performance.now();
coils.fill(true);
const flood = () => store.list().items.find((t) => t.fault === 'alarm-flood');
for (;;) {
  await new Promise((r) => setTimeout(r, 2));
  const f = flood();
  if (f && f.occurrences >= N - 50) break;
  if (performance.now() - t0 > 30_000) break;
}
const ms = performance.now() - t0;
console.log(`${together ? 'commitsTogether' : 'per signal    '}: ${N} coils true → flood ticket with ${flood()?.occurrences} raises after ${ms.toFixed(0)} ms (${raised} changes published; 100 ms poll)`);
for (const c of connectors.values()) await c.stop();
runtime.stop();
await store.close();
await new Promise((r) => server.close(r as never));
rmSync(dir, { recursive: true, force: true });
process.exit(0);
