import { afterEach, describe, expect, it } from 'vitest';
import { isAndonError } from '../../model/errors.ts';
import type { Signal } from '../../model/signal.ts';
import { harness, modbusConfig, oneOfEach, waitFor, type Harness } from './fixtures/harness.ts';
import { CASES, ORDERS } from './fixtures/patterns.ts';
import { encodeRegisters } from './decode.ts';
import { float32Value } from '../values.ts';
import { TcpDevice } from './fixtures/tcp-device.ts';

// Against modbus-serial's ServerTCP, a real Modbus TCP server on 127.0.0.1.

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function deviceOn(port?: number): Promise<TcpDevice> {
  const device = await TcpDevice.start(port);
  cleanup.push(() => device.stop());
  return device;
}

async function started(device: TcpDevice, raw: Record<string, unknown>): Promise<Harness> {
  const h = harness(modbusConfig({ host: '127.0.0.1', port: device.port, pollInterval: '100ms', timeout: '300ms', ...raw }));
  cleanup.push(() => h.connector.stop());
  await h.connector.start();
  return h;
}

const signalsOf = (h: Harness, tag: string, quality?: Signal['quality']) =>
  h.signals.filter((s) => s.tag === tag && (quality === undefined || s.quality === quality));
const report = (figures: Record<string, number | string>) => console.log('[modbus figures]', JSON.stringify(figures));
const reconnectAttempt = (h: Harness, n: number, ms: number) =>
  waitFor(h.log.entries$, (e) => e.msg === 'reconnect failed' && (e.attempt as number) >= n, ms, `reconnect attempt ${n}`);

describe('modbus connector against a Modbus TCP server', () => {
  it('decodes every type, word order and byte order end to end', async () => {
    const device = await deviceOn();
    const registers: Record<string, unknown>[] = [];
    CASES.forEach((c, i) => {
      device.holding.set(c.words, i * 6);
      device.input.set(c.words, 1000 + i * 6);
      registers.push({ tag: `hr/${i}`, table: 'holding', address: i * 6, type: c.type, ...ORDERS[c.order] });
      registers.push({ tag: `ir/${i}`, table: 'input', address: 1000 + i * 6, type: c.type, ...ORDERS[c.order] });
    });
    device.holding[500] = 0b1000_0000_0000_0101;
    device.holding[501] = 2305;
    device.coils[7] = true;
    device.discrete[9] = true;
    registers.push(
      { tag: 'status/b0', table: 'holding', address: 500, type: 'bit', bit: 0 },
      { tag: 'status/b1', table: 'holding', address: 500, type: 'bit', bit: 1 },
      { tag: 'status/b15', table: 'holding', address: 500, type: 'bit', bit: 15 },
      { tag: 'scaled', table: 'holding', address: 501, scale: 0.1, offset: -30 },
      { tag: 'coil/6', table: 'coil', address: 6 },
      { tag: 'coil/7', table: 'coil', address: 7 },
      { tag: 'di/9', table: 'discrete', address: 9, asset: 'press-1' },
    );
    const h = await started(device, { registers });
    const seen = await oneOfEach(
      h,
      registers.map((r) => r.tag as string),
      5_000,
    );
    CASES.forEach((c, i) => {
      // A float32 goes on cut to its own precision (Math.fround(-123.456) is -123.456).
      const value = c.type === 'float32' ? float32Value(c.value as number) : c.value;
      expect(seen.get(`hr/${i}`)?.value, `holding ${c.type} ${c.order}`).toBe(value);
      expect(seen.get(`ir/${i}`)?.value, `input ${c.type} ${c.order}`).toBe(value);
    });
    expect(seen.get(`hr/${CASES.findIndex((c) => c.value === Math.fround(-123.456))}`)?.value).toBe(-123.456);
    expect(['status/b0', 'status/b1', 'status/b15', 'coil/6', 'coil/7', 'di/9'].map((t) => seen.get(t)?.value)).toEqual([true, false, true, false, true, true]);
    expect(seen.get('scaled')?.value).toBe(200.5); // 2305 × 0.1 − 30, without the arithmetic's noise
    expect(seen.get('di/9')).toMatchObject({ source: 'plc', asset: 'press-1', quality: 'good', ts: expect.any(Number) });
    expect(h.statuses).toEqual(['connecting', 'up']);
  });

  it('values as people read them: float32 to its precision, decimals, and the unit on every signal', async () => {
    const device = await deviceOn();
    const words = (value: number, type: 'float32' | 'float64' = 'float32') => encodeRegisters(value, { type, wordOrder: 'big', byteOrder: 'big' });
    device.holding.set(words(196.4), 0); // 196.39999389648438 as a double
    device.holding.set(words(0.1), 2);
    device.holding.set(words(23.456789), 4);
    device.holding.set(words(2.345678901, 'float64'), 6);
    device.holding[10] = 1234; // 123.4 after scale 0.1
    const h = await started(device, {
      registers: [
        { tag: 'feeder/voltage', table: 'holding', address: 0, type: 'float32', unit: 'V' },
        { tag: 'feeder/pf', table: 'holding', address: 2, type: 'float32' },
        { tag: 'oven/temp', table: 'holding', address: 4, type: 'float32', decimals: 1, unit: '°C' },
        { tag: 'line/flow', table: 'holding', address: 6, type: 'float64', decimals: 2, unit: 'm³/h' },
        { tag: 'tank/level', table: 'holding', address: 10, scale: 0.1, unit: '%' },
      ],
    });
    const seen = await oneOfEach(h, ['feeder/voltage', 'feeder/pf', 'oven/temp', 'line/flow', 'tank/level'], 5_000);
    expect(seen.get('feeder/voltage')).toMatchObject({ value: 196.4, unit: 'V', quality: 'good' });
    expect(seen.get('feeder/pf')?.value).toBe(0.1);
    expect(seen.get('feeder/pf')).not.toHaveProperty('unit');
    expect(seen.get('oven/temp')).toMatchObject({ value: 23.5, unit: '°C' });
    expect(seen.get('line/flow')).toMatchObject({ value: 2.35, unit: 'm³/h' });
    expect(seen.get('tank/level')).toMatchObject({ value: 123.4, unit: '%' });
    // The device goes away: the bad signal carries the unit too.
    await device.stop();
    const bad = h.signals.find((s) => s.tag === 'feeder/voltage' && s.quality === 'bad') ?? (await waitFor(h.connector.signals$, (s) => s.tag === 'feeder/voltage' && s.quality === 'bad', 5_000, 'bad voltage'));
    expect(bad).toMatchObject({ value: 196.4, unit: 'V' });
  });

  it('batches contiguous registers: one request yields many signals', async () => {
    const device = await deviceOn();
    const registers = [
      ...Array.from({ length: 130 }, (_, a) => ({ tag: `hr/${a}`, table: 'holding', address: a })), // 125 + 5
      { tag: 'far/v', table: 'holding', address: 1000, type: 'float32' },
      { tag: 'far/n', table: 'holding', address: 1005 }, // same read as far/v (gap 3)
      { tag: 'ir/0', table: 'input', address: 0 },
      { tag: 'ir/50', table: 'input', address: 50 }, // gap 49 > 10: its own read
      { tag: 'co/0', table: 'coil', address: 0 },
      { tag: 'co/15', table: 'coil', address: 15 },
      { tag: 'co/100', table: 'coil', address: 100 },
      { tag: 'di/0', table: 'discrete', address: 0 },
    ];
    // A long interval: exactly one poll happens while the test looks.
    const h = await started(device, { pollInterval: '1h', registers });
    await oneOfEach(
      h,
      registers.map((r) => r.tag),
      5_000,
    );
    expect({ fc3: device.requestCount(3), fc4: device.requestCount(4), fc1: device.requestCount(1), fc2: device.requestCount(2) }).toEqual({
      fc3: 3,
      fc4: 2,
      fc1: 1,
      fc2: 1,
    });
    expect(h.signals).toHaveLength(registers.length);
    expect(h.log.entries.find((e) => e.msg === 'modbus read plan')).toMatchObject({ reads: 7, tags: 138 });
    report({ batching: `${registers.length} signals from 7 requests per poll` });
  });

  it('a changed value arrives with the next poll', async () => {
    const device = await deviceOn();
    device.holding[3] = 100;
    const h = await started(device, { registers: [{ tag: 'line/speed', table: 'holding', address: 3 }] });
    await waitFor(h.connector.signals$, (s) => s.value === 100, 2_000, 'the first value');
    const changed = waitFor(h.connector.signals$, (s) => s.value === 101, 2_000, 'the changed value');
    const t0 = performance.now();
    device.holding[3] = 101;
    await changed;
    const latency = performance.now() - t0;
    expect(latency).toBeLessThan(400);
    report({ changeLatencyMs: Math.round(latency), pollIntervalMs: 100 });
  });

  it('a stopped server: down, one bad signal per tag, silence; restarted on the same port: up and values again', async () => {
    const device = await deviceOn();
    device.holding[0] = 42;
    device.coils[1] = true;
    const h = await started(device, {
      registers: [
        { tag: 'm/count', table: 'holding', address: 0 },
        { tag: 'm/run', table: 'coil', address: 1 },
      ],
    });
    await waitFor(h.connector.signals$, (s) => s.tag === 'm/run', 2_000, 'a first poll');

    const down = waitFor(h.connector.status$, (s) => s === 'down', 2_000, 'status down');
    const stoppedAt = performance.now();
    await device.stop();
    await down;
    const detectMs = performance.now() - stoppedAt;
    const atDown = h.signals.length;
    // Several reconnect attempts fail while the device is away ...
    await reconnectAttempt(h, 4, 5_000);
    // ... and all the source said meanwhile is one bad signal per tag, with its last value.
    const whileDown = h.signals.slice(h.signals.findIndex((s) => s.quality === 'bad'));
    expect(whileDown).toEqual([
      expect.objectContaining({ tag: 'm/count', value: 42, quality: 'bad' }),
      expect.objectContaining({ tag: 'm/run', value: true, quality: 'bad' }),
    ]);
    expect(h.signals.length).toBe(atDown);
    expect(h.log.entries.find((e) => e.msg === 'device down; reconnecting with backoff')).toMatchObject({ level: 40, code: 'ANDON_MODBUS_UNREACHABLE' });

    device.holding[0] = 43;
    const restartedAt = performance.now();
    await device.start();
    await waitFor(h.connector.signals$, (s) => s.tag === 'm/count' && s.value === 43 && s.quality === 'good', 10_000, 'a fresh value after the restart');
    const recoveryMs = performance.now() - restartedAt;
    await waitFor(h.connector.status$, (s) => s === 'up', 1_000, 'status up');
    expect(h.statuses).toEqual(['connecting', 'up', 'down', 'up']);
    expect(h.log.entries.find((e) => e.msg === 'device back up')).toMatchObject({ downMs: expect.any(Number) });
    report({ downDetectedMs: Math.round(detectMs), recoveryAfterRestartMs: Math.round(recoveryMs), failedAttemptsBeforeRestart: 4 });
  });

  it('a device that stops answering is abandoned after the timeout and goes down', async () => {
    const device = await deviceOn();
    const h = await started(device, { timeout: '300ms', registers: [{ tag: 'x', table: 'holding', address: 0 }] });
    await waitFor(h.connector.signals$, () => true, 2_000, 'a first poll');
    const hungAt = performance.now();
    device.hang = true;
    await waitFor(h.connector.status$, (s) => s === 'down', 2_000, 'status down');
    const detectMs = performance.now() - hungAt;
    expect(detectMs).toBeGreaterThanOrEqual(250);
    expect(detectMs).toBeLessThan(300 + 100 + 300); // timeout + one poll interval + slack
    expect(h.log.entries.find((e) => e.msg === 'device down; reconnecting with backoff')?.code).toBe('ANDON_MODBUS_TIMEOUT');
    device.hang = false;
    await waitFor(h.connector.status$, (s) => s === 'up', 5_000, 'status up again');
    report({ hungDeviceDetectedMs: Math.round(detectMs), timeoutMs: 300 });
  });

  it('two sources, one dead: the other keeps polling on time', async () => {
    const alive = await deviceOn();
    const dead = await deviceOn();
    dead.hang = true; // accepts connections, never answers: the slowest way to fail
    const a = await started(alive, { registers: [{ tag: 'a/x', table: 'holding', address: 0 }] });
    const b = harness(
      modbusConfig({
        id: 'dead',
        host: '127.0.0.1',
        port: dead.port,
        pollInterval: '100ms',
        timeout: '500ms',
        registers: [{ tag: 'b/x', table: 'holding', address: 0 }],
      }),
    );
    cleanup.push(() => b.connector.stop());
    const from = a.at.signal.length;
    await b.connector.start();
    await reconnectAttempt(b, 3, 10_000);
    const times = a.at.signal.slice(from).map((x) => x.t);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    const maxGap = Math.max(...gaps);
    const meanGap = gaps.reduce((x, y) => x + y, 0) / gaps.length;
    expect(gaps.length).toBeGreaterThan(10);
    // Waiting on the dead source would show as a gap of at least its 500 ms timeout.
    expect(maxGap).toBeLessThan(400);
    expect(meanGap).toBeGreaterThan(90);
    expect(meanGap).toBeLessThan(150);
    expect(b.statuses).toEqual(['connecting', 'down']);
    expect(b.signals).toEqual([expect.objectContaining({ source: 'dead', tag: 'b/x', value: null, quality: 'bad' })]);
    expect(a.statuses).toEqual(['connecting', 'up']);
    report({ healthyPolls: gaps.length + 1, healthyMeanIntervalMs: Math.round(meanGap), healthyMaxIntervalMs: Math.round(maxGap), deadSourceAttempts: 3 });
  });

  it('an illegal address fails only its tags (read-error), the others keep flowing, status degraded', async () => {
    const device = await deviceOn();
    device.holding[48] = 48;
    device.holding[55] = 55;
    device.holding[62] = 62;
    for (let a = 50; a < 60; a++) device.illegal.add(a); // a hole in the device's map
    const registers = [48, 55, 62].map((address) => ({ tag: `hr/${address}`, table: 'holding', address }));
    const h = await started(device, { registers });
    await waitFor(h.connector.status$, (s) => s === 'degraded', 2_000, 'status degraded');
    // 48 and 62 were batched with 55 (gap ≤ 10); the refused batch was split and they still read.
    const before = signalsOf(h, 'hr/48').length;
    await waitFor(h.connector.signals$, () => signalsOf(h, 'hr/48').length >= before + 3, 2_000, 'three more polls');
    expect(signalsOf(h, 'hr/62', 'good').length).toBeGreaterThanOrEqual(3);
    expect(signalsOf(h, 'hr/55')).toEqual([expect.objectContaining({ value: null, quality: 'bad' })]);
    expect(h.rejects.length).toBeGreaterThanOrEqual(3);
    expect(new Set(h.rejects)).toEqual(new Set(['read-error']));
    expect(h.log.entries.filter((e) => e.msg === 'tag read refused by the device')).toEqual([
      expect.objectContaining({ tag: 'hr/55', modbusCode: 2, code: 'ANDON_MODBUS_EXCEPTION' }),
    ]);
    expect(h.statuses).toEqual(['connecting', 'degraded']);

    device.illegal.clear();
    await waitFor(h.connector.signals$, (s) => s.tag === 'hr/55' && s.value === 55 && s.quality === 'good', 2_000, 'hr/55 readable again');
    await waitFor(h.connector.status$, (s) => s === 'up', 2_000, 'status up');
  });

  it('writes a coil and a holding register onto the device; refusals are AndonErrors', async () => {
    const device = await deviceOn();
    const h = await started(device, { registers: [{ tag: 'x', table: 'holding', address: 0 }] });
    await h.connector.write?.({ table: 'coil', address: 12, value: true });
    await h.connector.write?.({ table: 'holding', address: 10, value: 4242 });
    await h.connector.write?.({ table: 'holding', address: 11, value: -2 });
    expect([device.coils[12], device.holding[10], device.holding[11]]).toEqual([true, 4242, 0xfffe]);
    expect({ fc5: device.requestCount(5), fc6: device.requestCount(6) }).toEqual({ fc5: 1, fc6: 2 });

    const codeOf = (p: Promise<void> | undefined) =>
      (p ?? Promise.resolve()).then(
        () => 'resolved',
        (err: unknown) => (isAndonError(err) ? err.code : `not an AndonError: ${String(err)}`),
      );
    device.illegal.add(20);
    expect(await codeOf(h.connector.write?.({ table: 'holding', address: 20, value: 1 }))).toBe('ANDON_MODBUS_EXCEPTION');
    expect(await codeOf(h.connector.write?.({ table: 'holding', address: 1, value: 70_000 }))).toBe('ANDON_MODBUS_WRITE_INVALID');
    expect(await codeOf(h.connector.write?.({ table: 'coil', address: 1, value: 'on' }))).toBe('ANDON_MODBUS_WRITE_INVALID');
    expect(await codeOf(h.connector.write?.({ nodeId: 'ns=1;s=X', value: true }))).toBe('ANDON_MODBUS_WRITE_INVALID');

    await device.stop();
    await waitFor(h.connector.status$, (s) => s === 'down', 2_000, 'status down');
    expect(await codeOf(h.connector.write?.({ table: 'coil', address: 12, value: false }))).toBe('ANDON_MODBUS_DOWN');
  });

  it('start resolves against a missing device, and stop ends even a hung request in bounded time', async () => {
    const device = await deviceOn();
    const port = device.port;
    await device.stop(); // nothing listens on `port` now
    const h = harness(
      modbusConfig({ host: '127.0.0.1', port, pollInterval: '100ms', timeout: '300ms', registers: [{ tag: 'x', table: 'holding', address: 0 }] }),
    );
    await h.connector.start();
    expect(h.statuses).toEqual(['connecting', 'down']);
    await h.connector.stop();

    const hung = await deviceOn();
    hung.hang = true;
    const g = harness(
      modbusConfig({ host: '127.0.0.1', port: hung.port, pollInterval: '100ms', timeout: '5s', registers: [{ tag: 'x', table: 'holding', address: 0 }] }),
    );
    const inFlight = waitFor(hung.requests$, (fc) => fc === 3, 2_000, 'a read in flight');
    void g.connector.start();
    await inFlight;
    const t0 = performance.now();
    let completed = false;
    g.connector.signals$.subscribe({ complete: () => (completed = true) });
    await g.connector.stop();
    const stopMs = performance.now() - t0;
    expect(completed).toBe(true);
    expect(stopMs).toBeLessThan(500);
    report({ stopWithHungRequestMs: Math.round(stopMs) });
  });
});
