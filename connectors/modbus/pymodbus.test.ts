import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peer } from '../../test/peers.ts';
import type { Signal } from '../../model/signal.ts';
import { harness, modbusConfig, waitFor, type Harness } from './fixtures/harness.ts';

// The independent peer: pymodbus 3.0 (Debian python3-pymodbus) running fixtures/modbus_sim.py.
const hasPymodbus = peer('pymodbus', ['/usr/bin/python3', '-c', 'import pymodbus'], 'apt-get install python3-pymodbus');
const SIM = fileURLToPath(new URL('./fixtures/modbus_sim.py', import.meta.url));

/** Starts the simulator on a free port (--port 0) and resolves with the port from its "listening" line. */
function startSim(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn('/usr/bin/python3', [SIM, '--host', '127.0.0.1', '--port', '0', '--interval', '0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('modbus_sim did not report "listening" within 10 s')), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${err.message}\n${stderr}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`modbus_sim exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /listening on [\d.]+:(\d+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, port: Number(m[1]) });
    });
  });
}

describe.skipIf(!hasPymodbus)('modbus connector against pymodbus (independent peer)', () => {
  let sim: { child: ChildProcess; port: number };
  let h: Harness;
  const good = (tag: string, pred: (s: Signal) => boolean = () => true, what = tag) =>
    waitFor(h.connector.signals$, (s) => s.tag === tag && s.quality === 'good' && pred(s), 5_000, what);

  beforeAll(async () => {
    const t0 = performance.now();
    sim = await startSim();
    console.log('[modbus figures]', JSON.stringify({ pymodbusStartMs: Math.round(performance.now() - t0) }));
    h = harness(
      modbusConfig({
        id: 'sim',
        host: '127.0.0.1',
        port: sim.port,
        pollInterval: '100ms',
        timeout: '500ms',
        registers: [
          { tag: 'sim/counter', table: 'holding', address: 0 },
          { tag: 'sim/temperature', table: 'holding', address: 1, scale: 0.1 },
          { tag: 'sim/status', table: 'holding', address: 2 },
          { tag: 'sim/setpoint', table: 'holding', address: 10 },
          { tag: 'sim/pressure', table: 'input', address: 1 },
          { tag: 'sim/toggle', table: 'coil', address: 0 },
          { tag: 'sim/lamp', table: 'coil', address: 8 },
          { tag: 'sim/heartbeat', table: 'discrete', address: 0 },
        ],
      }),
    );
    await h.connector.start();
  });

  afterAll(async () => {
    await h?.connector.stop();
    if (sim && sim.child.exitCode === null) {
      const exited = new Promise((resolve) => sim.child.once('exit', resolve));
      sim.child.kill('SIGTERM');
      await exited;
    }
  });

  it('reads the counter, temperature, pressure and bits as they change', async () => {
    const first = await good('sim/counter');
    await good('sim/counter', (s) => (s.value as number) > (first.value as number), 'the counter to advance');
    const temp = await good('sim/temperature');
    expect(temp.value).toBeGreaterThanOrEqual(20);
    expect(temp.value).toBeLessThan(90);
    const pressure = await good('sim/pressure');
    expect(pressure.value).toBeGreaterThanOrEqual(1000);
    expect(pressure.value).toBeLessThan(1100);
    await good('sim/toggle', (s) => s.value === true, 'coil 0 on');
    await good('sim/toggle', (s) => s.value === false, 'coil 0 off');
    await good('sim/heartbeat', (s) => s.value === true, 'discrete 0 on');
    expect(h.statuses).toEqual(['connecting', 'up']);
  });

  it('writes HR10 and coil 8 and reads them back', async () => {
    await good('sim/setpoint', (s) => s.value === 100, 'the initial setpoint');
    await h.connector.write?.({ table: 'holding', address: 10, value: 4242 });
    await good('sim/setpoint', (s) => s.value === 4242, 'HR10 = 4242 read back');
    await h.connector.write?.({ table: 'coil', address: 8, value: true });
    await good('sim/lamp', (s) => s.value === true, 'coil 8 read back on');
  });

  it('an address pymodbus does not have answers exception 02: read-error for that tag only', async () => {
    const g = harness(
      modbusConfig({
        id: 'sim-holes',
        host: '127.0.0.1',
        port: sim.port,
        pollInterval: '100ms',
        registers: [
          { tag: 'sim/counter', table: 'holding', address: 0 },
          { tag: 'sim/nowhere', table: 'holding', address: 500 },
        ],
      }),
    );
    try {
      await g.connector.start();
      await waitFor(g.connector.status$, (s) => s === 'degraded', 5_000, 'status degraded');
      const n = g.signals.filter((s) => s.tag === 'sim/counter').length;
      await waitFor(g.connector.signals$, () => g.signals.filter((s) => s.tag === 'sim/counter').length >= n + 2, 5_000, 'the counter to keep flowing');
      expect(g.signals.filter((s) => s.tag === 'sim/nowhere')).toEqual([expect.objectContaining({ value: null, quality: 'bad' })]);
      expect(g.rejects[0]).toBe('read-error');
      expect(g.log.entries.find((e) => e.msg === 'tag read refused by the device')).toMatchObject({ tag: 'sim/nowhere', modbusCode: 2 });
    } finally {
      await g.connector.stop();
    }
  });
});
