import type { MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { peer } from '../../test/peers.ts';
import { makeCerts, makePasswordFile, startMosquitto, tempDir, type Certs, type Mosquitto } from './fixtures/brokers.ts';
import { harness, testClient, type Harness } from './fixtures/harness.ts';

// `mosquitto -h` prints its usage and exits with status 3.
const hasMosquitto = peer('mosquitto', ['mosquitto', '-h'], 'apt-get install mosquitto', (st) => st === 3);

describe.skipIf(!hasMosquitto)('against mosquitto', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('survives a broker restart: signals flow again within 5 s, and the session (queued messages) survives too', async () => {
    const tmp = tempDir('andon-mqtt-restart-');
    cleanups.push(tmp.remove);
    const broker = (port?: number) => startMosquitto({ dir: tmp.dir, persistence: true, listeners: [{ port, lines: ['allow_anonymous true'] }] });
    let m: Mosquitto = await broker();
    cleanups.push(() => m.stop());
    const url = `mqtt://127.0.0.1:${m.ports[0]}`;
    // The shipped defaults: first retry after 1 s, doubling up to 30 s.
    const source = {
      url,
      clientId: 'andon-restart',
      reconnectPeriod: '1s',
      maxReconnectPeriod: '30s',
      subscriptions: [{ topic: 'line/+/state', tag: 'line/{1}/state' }],
    };
    let h = harness(source);
    cleanups.push(() => h.stop());
    await h.connector.start();
    await h.status('up');
    const pub: MqttClient = await testClient(url);
    cleanups.push(() => pub.endAsync(true));
    await pub.publishAsync('line/1/state', JSON.stringify({ value: 'RUN' }), { qos: 1 });
    await h.signal((s) => s.value === 'RUN');

    await m.stop();
    await h.status('down');
    const restarted = performance.now();
    m = await broker(m.ports[0]);
    const up = firstValueFrom(
      h.connector.status$.pipe(
        filter((s) => s === 'up'),
        timeout(5_000),
      ),
    ).then(() => performance.now() - restarted);
    await pub.publishAsync('line/1/state', JSON.stringify({ value: 'STOP' }), { qos: 1 });
    await h.signal((s) => s.value === 'STOP', 5_000);
    const flowing = performance.now() - restarted;
    console.info(`mosquitto restart: connector up ${Math.round(await up)} ms, signals flowing ${Math.round(flowing)} ms after the new broker runs`);
    expect(flowing).toBeLessThan(5_000);
    expect(h.statuses).toEqual(['connecting', 'up', 'down', 'up']);

    // Stopped gateway + restarted broker: what was queued for the session is still delivered.
    await h.stop();
    await pub.publishAsync('line/1/state', JSON.stringify({ value: 'QUEUED' }), { qos: 1 });
    await m.stop();
    m = await broker(m.ports[0]);
    h = harness(source);
    await h.connector.start();
    expect((await h.signal((s) => s.value !== 'STOP' && s.value !== 'RUN', 5_000)).value).toBe('QUEUED');
  });

  describe('TLS and credentials', () => {
    let tmp: ReturnType<typeof tempDir>;
    let certs: Certs;
    let m: Mosquitto;
    let tlsPort: number;
    let mtlsPort: number;
    const running: Harness[] = [];

    beforeAll(async () => {
      tmp = tempDir('andon-mqtt-tls-');
      certs = await makeCerts(tmp.dir);
      const passwd = await makePasswordFile(tmp.dir, 'gateway', 'gwpass123');
      const serverTls = [`cafile ${certs.ca}`, `certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, 'tls_version tlsv1.2'];
      m = await startMosquitto({
        dir: tmp.dir,
        global: ['per_listener_settings true'],
        listeners: [
          { lines: [...serverTls, 'allow_anonymous false', `password_file ${passwd}`] }, // TLS + user/password
          { lines: [...serverTls, 'require_certificate true', 'use_identity_as_username true', 'allow_anonymous false'] }, // mutual TLS
        ],
      });
      [tlsPort, mtlsPort] = m.ports as [number, number];
    });

    afterAll(async () => {
      await Promise.all(running.map((h) => h.stop()));
      await m?.stop();
      tmp?.remove();
    });

    const roundTrip = async (h: Harness, url: string, opts: Parameters<typeof testClient>[1]) => {
      running.push(h);
      await h.connector.start();
      await h.status('up');
      const pub = await testClient(url, opts);
      await pub.publishAsync('secure/x', JSON.stringify({ value: 1 }), { qos: 1 });
      await pub.endAsync();
      return h.signal((s) => s.tag === 'secure/x');
    };

    it('connects over TLS (CA file) with username and password', async () => {
      const url = `mqtts://127.0.0.1:${tlsPort}`;
      const h = harness({
        url,
        clientId: 'andon-tls',
        username: 'gateway',
        password: 'gwpass123',
        tls: { ca: certs.ca },
        subscriptions: [{ topic: 'secure/#' }],
      });
      const s = await roundTrip(h, url, { ca: readFileSync(certs.ca), username: 'gateway', password: 'gwpass123' });
      expect(s.value).toBe(1);
    });

    it('connects with a client certificate (mutual TLS)', async () => {
      const url = `mqtts://127.0.0.1:${mtlsPort}`;
      const h = harness({
        url,
        clientId: 'andon-mtls',
        tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
        subscriptions: [{ topic: 'secure/#' }],
      });
      const client = { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
      expect((await roundTrip(h, url, client)).value).toBe(1);
    });

    it('a wrong password or an untrusted server leaves the source down (retrying), never crashing', async () => {
      const url = `mqtts://127.0.0.1:${tlsPort}`;
      const wrong = harness({
        url,
        clientId: 'andon-wrong',
        username: 'gateway',
        password: 'nope',
        tls: { ca: certs.ca },
        subscriptions: [{ topic: 'secure/#' }],
      });
      const untrusted = harness({ url, clientId: 'andon-untrusted', username: 'gateway', password: 'gwpass123', subscriptions: [{ topic: 'secure/#' }] });
      running.push(wrong, untrusted);
      await Promise.all([wrong.connector.start(), untrusted.connector.start()]);
      expect(wrong.statuses).toEqual(['connecting', 'down']);
      expect(untrusted.statuses).toEqual(['connecting', 'down']);
      expect(wrong.logs.some((l) => l.msg === 'mqtt connection error' && /not authori[sz]ed/i.test(JSON.stringify(l.err)))).toBe(true);
      expect(untrusted.logs.some((l) => l.msg === 'mqtt connection error')).toBe(true);
    });
  });
});
