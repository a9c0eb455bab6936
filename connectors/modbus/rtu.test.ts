import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ServerSerial } from 'modbus-serial';
import { Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { peer } from '../../test/peers.ts';
import { endpointOf } from './client.ts';
import { modbusSourceSchema } from './config.ts';
import { harness, modbusConfig, waitFor, type Harness } from './fixtures/harness.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function started(raw: Record<string, unknown>): Harness {
  const h = harness(modbusConfig({ pollInterval: '100ms', timeout: '300ms', ...raw }));
  cleanup.push(() => h.connector.stop());
  return h;
}

describe('modbus RTU: config path', () => {
  it('a serial source becomes an RTU endpoint with 8N1 at 9600 baud by default', () => {
    expect(endpointOf(modbusConfig({ unitId: 7, serial: { path: '/dev/ttyUSB0' } }))).toEqual({
      kind: 'rtu',
      path: '/dev/ttyUSB0',
      options: { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 },
      unitId: 7,
      timeout: 1000,
    });
    expect(endpointOf(modbusConfig({ serial: { path: '/dev/ttyS1', baudRate: 19200, parity: 'even' } }))).toMatchObject({
      options: { baudRate: 19200, parity: 'even' },
    });
    expect(endpointOf(modbusConfig({ host: '10.0.0.5', port: 5020 }))).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 5020, unitId: 1, timeout: 1000 });
  });

  it('a source is TCP or RTU, never both, never neither', () => {
    const issues = (raw: Record<string, unknown>) =>
      modbusSourceSchema.safeParse({ id: 'm', type: 'modbus', ...raw }).error?.issues.map((i) => i.message) ?? [];
    expect(issues({ host: 'h', serial: { path: '/dev/ttyS0' } })).toEqual(['a modbus source is either TCP (host) or RTU (serial), not both']);
    expect(issues({})).toEqual(['a modbus source needs host (Modbus TCP) or serial (Modbus RTU)']);
    expect(issues({ serial: { path: '/dev/ttyS0', parity: 'mark' } })).toHaveLength(1);
  });

  it('a missing serial device reports down with a code and keeps retrying, without crashing', async () => {
    const path = `/dev/ttyANDON-missing-${process.pid}`;
    const h = started({ serial: { path }, registers: [{ tag: 'rtu/x', table: 'holding', address: 0 }] });
    await h.connector.start();
    expect(h.statuses).toEqual(['connecting', 'down']);
    const first = h.log.entries.find((e) => e.msg === 'device down; reconnecting with backoff');
    expect(first).toMatchObject({ level: 40, code: 'ANDON_MODBUS_UNREACHABLE', endpoint: path });
    expect(JSON.stringify(first?.err)).toContain('cannot open');
    await waitFor(h.log.entries$, (e) => e.msg === 'reconnect failed' && e.attempt === 3, 5_000, 'a third attempt');
    // Never read: one bad signal without a value, then nothing however often the retry fails.
    expect(h.signals).toEqual([expect.objectContaining({ tag: 'rtu/x', value: null, quality: 'bad' })]);
    await h.connector.stop();
  });
});

// Real RTU framing (CRC, unit id, serialport) over a pseudo-terminal null modem: not hardware, but the whole stack.
const hasPython = peer('python3', ['/usr/bin/python3', '-c', 'import pty, tty'], 'apt-get install python3');

describe.skipIf(!hasPython)('modbus RTU over a pty null modem against modbus-serial ServerSerial', () => {
  async function ptyPair(): Promise<[string, string]> {
    const child: ChildProcess = spawn('/usr/bin/python3', [fileURLToPath(new URL('./fixtures/pty_pair.py', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanup.push(() => {
      child.kill();
    });
    const line = await waitFor(
      new Observable<string>((sub) => {
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => sub.next(l));
      }),
      (l) => l.startsWith('pty pair '),
      5_000,
      'the pty pair',
    );
    const [, , a, b] = line.split(' ');
    return [a as string, b as string];
  }

  /** An RTU slave; while `state.silent`, it reads requests but never answers (a device that stopped responding). */
  async function rtuDevice(path: string, holding: number[], coils: boolean[], state: { silent: boolean }): Promise<ServerSerial> {
    const never = <T>() => new Promise<T>(() => undefined);
    const server = await new Promise<ServerSerial>((resolve, reject) => {
      const s: ServerSerial = new ServerSerial(
        {
          getHoldingRegister: (a: number) => (state.silent ? never<number>() : (holding[a] ?? 0)),
          getMultipleHoldingRegisters: (a: number, n: number) => Array.from({ length: n }, (_, i) => (state.silent ? never<number>() : (holding[a + i] ?? 0))),
          getCoil: (a: number) => (state.silent ? never<boolean>() : coils[a] === true),
          setRegister: (a: number, v: number) => void (holding[a] = v),
          setCoil: (a: number, v: boolean) => void (coils[a] = v),
        },
        { path, baudRate: 19200, unitID: 3, openCallback: (err) => (err ? reject(err) : resolve(s)) },
      );
    });
    server.on('error', () => undefined);
    return server;
  }

  it('reads, writes, and goes down and back up with the device', async () => {
    const [devicePath, gatewayPath] = await ptyPair();
    const holding = [0x4366, 0x8000, 7];
    const coils = [false, true];
    const state = { silent: false };
    const server = await rtuDevice(devicePath, holding, coils, state);
    const close = (s: ServerSerial) => new Promise<void>((resolve) => s.close(() => resolve()));
    cleanup.push(() => close(server));

    const h = started({
      unitId: 3,
      serial: { path: gatewayPath, baudRate: 19200 },
      registers: [
        { tag: 'rtu/voltage', table: 'holding', address: 0, type: 'float32' },
        { tag: 'rtu/state', table: 'holding', address: 2 },
        { tag: 'rtu/run', table: 'coil', address: 1 },
      ],
    });
    await h.connector.start();
    expect(h.statuses).toEqual(['connecting', 'up']);
    expect(h.signals.map((s) => [s.tag, s.value])).toEqual([
      ['rtu/voltage', 230.5],
      ['rtu/state', 7],
      ['rtu/run', true],
    ]);
    await h.connector.write?.({ table: 'holding', address: 2, value: 9 });
    await h.connector.write?.({ table: 'coil', address: 4, value: true });
    expect([holding[2], coils[4]]).toEqual([9, true]);

    state.silent = true; // the device stops answering
    await waitFor(h.connector.status$, (s) => s === 'down', 3_000, 'status down');
    expect(h.log.entries.find((e) => e.msg === 'device down; reconnecting with backoff')?.code).toBe('ANDON_MODBUS_TIMEOUT');
    state.silent = false;
    await waitFor(h.connector.status$, (s) => s === 'up', 5_000, 'status up again');
  });
});
