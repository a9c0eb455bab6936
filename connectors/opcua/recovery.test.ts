import { afterAll, describe, expect, it } from 'vitest';
import { byTag, connect, freePort, tempDir } from './fixtures/harness.ts';
import { startProxy } from './fixtures/proxy.ts';
import { startPlantServer, type PlantServer } from './fixtures/server.ts';

const TEMP = 'packaging/sealer-01/temperature';
const E21 = 'packaging/sealer-01/alarm/E21';

const plantConfig = (endpoint: string) => ({
  endpoint,
  publishingInterval: '100ms',
  samplingInterval: '50ms',
  tags: [{ tag: TEMP, nodeId: 'ns=1;s=Sealer01.Temperature', asset: 'sealer-01' }],
  alarms: [{ notifier: 'ns=1;s=Sealer01', asset: 'sealer-01', area: 'packaging' }],
});

/** Recovery figures, printed for the report (not asserted beyond the 10 s bound). */
const figures: Record<string, number> = {};

describe('opcua connector recovers by itself', () => {
  const tmp = tempDir();
  afterAll(() => {
    console.log(`opcua recovery figures (ms): ${JSON.stringify(figures)}`);
    tmp.cleanup();
  });

  it('after a server restart on the same port, values and alarms flow again within 10 s, untouched', async () => {
    let plant: PlantServer = await startPlantServer({ pkiDir: tmp.dir });
    const h = connect(plantConfig(plant.endpoint), tmp.dir);
    try {
      await h.connector.start();
      await h.statuses.next((s) => s === 'up', 'up', { since: 0 });
      plant.setTemperature(42);
      await h.signals.next(byTag(TEMP, (s) => s.value === 42 && s.quality === 'good'), 'temperature 42');
      plant.raiseAlarm('seal jaw fault', 700);
      await h.signals.next(byTag(E21, (s) => s.value === true), 'E21 active before restart', { since: 0 });

      const fromDown = h.signals.length;
      const stoppedAt = performance.now();
      const port = plant.port;
      await plant.stop();
      await h.statuses.next((s) => s === 'down', 'down after shutdown', { since: 1 });
      // Each tag's last value, once, with quality bad.
      const bad = await h.signals.next(byTag(TEMP, (s) => s.quality === 'bad'), 'temperature bad', { since: fromDown });
      expect(bad.value).toBe(42);
      expect((await h.signals.next(byTag(E21, (s) => s.quality === 'bad'), 'E21 bad', { since: fromDown })).value).toBe(true);

      plant = await startPlantServer({ pkiDir: tmp.dir, port });
      const restartedAt = performance.now();
      const fromUp = h.statuses.length;
      await h.statuses.next((s) => s === 'up', 'up after restart', { since: fromUp, timeoutMs: 10_000 });
      const upAt = performance.now();
      // The new server's condition is normal: the refresh does not re-send it, so it is cleared.
      const cleared = await h.signals.next(byTag(E21, (s) => s.value === false && s.quality === 'good'), 'E21 cleared by refresh', { since: fromDown });
      expect(cleared.asset).toBe('sealer-01');
      plant.setTemperature(43);
      await h.signals.next(byTag(TEMP, (s) => s.value === 43 && s.quality === 'good'), 'temperature 43 after restart', { since: fromDown, timeoutMs: 10_000 });
      plant.raiseAlarm('seal jaw fault again', 750);
      await h.signals.next(byTag(E21, (s) => s.value === true && s.severity === 750), 'E21 after restart', { since: fromDown, timeoutMs: 10_000 });
      const flowingAt = performance.now();
      figures.restartUpAfterServerStart = Math.round(upAt - restartedAt);
      figures.restartFlowingAfterServerStart = Math.round(flowingAt - restartedAt);
      figures.restartOutageTotal = Math.round(flowingAt - stoppedAt);
      expect(flowingAt - restartedAt).toBeLessThan(10_000);
    } finally {
      await h.stop();
      await plant.stop();
    }
  });

  it('a server that is down at start: connecting, then down, then up when it appears', async () => {
    const port = await freePort();
    const h = connect(plantConfig(`opc.tcp://127.0.0.1:${port}/UA/Plant`), tmp.dir);
    let plant: PlantServer | undefined;
    try {
      expect(h.statuses.items).toEqual(['connecting']);
      await h.connector.start(); // resolves after the first attempt, without throwing
      await h.statuses.next((s) => s === 'down', 'down', { since: 0 });
      await h.logs.next((l) => l.code === 'ANDON_OPCUA_CONNECT_FAILED', 'connect-failed log', { since: 0 });
      plant = await startPlantServer({ pkiDir: tmp.dir, port });
      const startedAt = performance.now();
      await h.statuses.next((s) => s === 'up', 'up once the server is there', { since: 0, timeoutMs: 15_000 });
      figures.lateServerUpAfterServerStart = Math.round(performance.now() - startedAt);
      plant.setTemperature(61);
      await h.signals.next(byTag(TEMP, (s) => s.value === 61), 'temperature 61');
    } finally {
      await h.stop();
      await plant?.stop();
    }
  });

  it('a subscription deleted behind the client\'s back is rebuilt, and data flows again', async () => {
    const plant = await startPlantServer({ pkiDir: tmp.dir });
    const h = connect(plantConfig(plant.endpoint), tmp.dir);
    try {
      await h.connector.start();
      await h.statuses.next((s) => s === 'up', 'up', { since: 0 });
      await h.signals.next(byTag(TEMP), 'initial value', { since: 0 });
      const fromLogs = h.logs.length;
      const killedAt = performance.now();
      for (const session of plant.server.engine.getSessions()) {
        for (const sub of session.publishEngine.subscriptions) session.deleteSubscription(sub.id);
      }
      const from = h.signals.length;
      // Keep changing the value: it must arrive again without anyone touching the connector.
      let v = 200;
      const ticker = setInterval(() => plant.setTemperature(++v), 100);
      try {
        await h.signals.next(byTag(TEMP, (s) => s.quality === 'good' && typeof s.value === 'number' && s.value > 200), 'data after the rebuild', { since: from, timeoutMs: 10_000 });
      } finally {
        clearInterval(ticker);
      }
      figures.deletedSubscriptionRecovered = Math.round(performance.now() - killedAt);
      // node-opcua notices nothing here (#1059 in miniature); the watchdog does.
      expect(h.logs.items.slice(fromLogs).some((l) => l.code === 'ANDON_OPCUA_SUBSCRIPTION_SILENT')).toBe(true);
    } finally {
      await h.stop();
      await plant.stop();
    }
  });

  it('a cut connection: an alarm still active comes back true after the reconnect, never false', async () => {
    const plant = await startPlantServer({ pkiDir: tmp.dir });
    const proxy = await startProxy(plant.port);
    const h = connect(plantConfig(proxy.endpoint), tmp.dir);
    try {
      await h.connector.start();
      await h.statuses.next((s) => s === 'up', 'up', { since: 0 });
      plant.raiseAlarm('seal jaw fault', 700);
      await h.signals.next(byTag(E21, (s) => s.value === true), 'E21 active', { since: 0 });
      const from = h.signals.length;
      const fromStatus = h.statuses.length;
      const cutAt = performance.now();
      proxy.cut();
      await h.statuses.next((s) => s === 'down', 'down after the cut', { since: fromStatus });
      await h.statuses.next((s) => s === 'up', 'up after the reconnect', { since: fromStatus, timeoutMs: 10_000 });
      const back = await h.signals.next(byTag(E21, (s) => s.quality === 'good'), 'E21 after reconnect', { since: from });
      figures.cutRecovered = Math.round(performance.now() - cutAt);
      expect(back).toMatchObject({ value: true, severity: 700 });
      plant.setTemperature(77);
      await h.signals.next(byTag(TEMP, (s) => s.value === 77), 'temperature after reconnect', { since: from });
      expect(h.signals.items.slice(from).filter(byTag(E21)).map((s) => s.value)).not.toContain(false);
    } finally {
      await h.stop();
      await proxy.close();
      await plant.stop();
    }
  });

  it('a frozen connection (open, silent) is found by the watchdog and rebuilt', async () => {
    const plant = await startPlantServer({ pkiDir: tmp.dir });
    const proxy = await startProxy(plant.port);
    const h = connect(plantConfig(proxy.endpoint), tmp.dir);
    try {
      await h.connector.start();
      await h.statuses.next((s) => s === 'up', 'up', { since: 0 });
      const from = h.signals.length;
      const fromStatus = h.statuses.length;
      const frozenAt = performance.now();
      proxy.freeze();
      await h.logs.next((l) => l.code === 'ANDON_OPCUA_SUBSCRIPTION_SILENT', 'watchdog', { since: 0, timeoutMs: 10_000 });
      await h.statuses.next((s) => s === 'up', 'up again', { since: fromStatus, timeoutMs: 10_000 });
      plant.setTemperature(88);
      await h.signals.next(byTag(TEMP, (s) => s.value === 88 && s.quality === 'good'), 'temperature after rebuild', { since: from });
      figures.frozenRecovered = Math.round(performance.now() - frozenAt);
    } finally {
      await h.stop();
      await proxy.close();
      await plant.stop();
    }
  });

  it('stop() is bounded while the server is unreachable, and completes the streams', async () => {
    const port = await freePort();
    const h = connect(plantConfig(`opc.tcp://127.0.0.1:${port}/UA/Plant`), tmp.dir);
    let completed = 0;
    h.connector.signals$.subscribe({ complete: () => completed++ });
    h.connector.status$.subscribe({ complete: () => completed++ });
    await h.connector.start();
    await h.statuses.next((s) => s === 'down', 'down', { since: 0 });
    const t0 = performance.now();
    await h.stop();
    figures.stopWhileDown = Math.round(performance.now() - t0);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(completed).toBe(2);
  });
});
