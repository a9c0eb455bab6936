import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../../connectors/mqtt/fixtures/brokers.ts';
import { peer } from '../peers.ts';

/**
 * deploy/mosquitto.conf (the compose's broker) run by a real mosquitto: what
 * the gateway's persistent QoS 1 session misses while it is down must all be
 * there when it comes back, also across a broker restart. The same test with
 * mosquitto's default queue limit shows why the file sets it.
 */

const conf = readFileSync(fileURLToPath(new URL('../../deploy/mosquitto.conf', import.meta.url)), 'utf8');
const hasMosquitto = peer('mosquitto', ['mosquitto', '-h'], 'apt-get install mosquitto', (s) => s === 0 || s === 3);

/** The compose file, moved to 127.0.0.1:<port> and a scratch persistence dir. */
function localConf(port: number, dir: string, text = conf): string {
  const lines = text
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
    .replace(/^log_dest stdout$/m, 'log_dest stderr') // a pipe would block-buffer stdout
    .replace(/^log_type notice$/m, 'log_type notice\nlog_type information');
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, (process.getuid?.() === 0 ? 'user root\n' : '') + lines);
  return file;
}

const running: ChildProcess[] = [];
async function startBroker(file: string): Promise<ChildProcess> {
  const proc = spawn('mosquitto', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mosquitto did not start:\n${log}`)), 5_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (/mosquitto version [\d.]+ running/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto exited with ${code}:\n${log}`));
    });
  });
  return proc;
}
async function stopBroker(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM'); // mosquitto saves its persistence file on SIGTERM
  await exited;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map(stopBroker));
});

const session = (url: string) => connectAsync(url, { clientId: 'andon-mes', clean: false, reconnectPeriod: 0 });

/** The gateway's session again, listening before it connects: queued messages arrive right after CONNACK. */
function resume(url: string, onMessage: (m: { sentinel?: boolean; marker?: boolean }) => void): MqttClient {
  const c = connect(url, { clientId: 'andon-mes', clean: false, reconnectPeriod: 0 });
  c.on('message', (_t, payload) => onMessage(JSON.parse(payload.toString()) as { sentinel?: boolean; marker?: boolean }));
  return c;
}

/** Publishes n alarms and a sentinel at QoS 1 while the gateway's session is offline. */
async function publishWhileOffline(url: string, n: number): Promise<void> {
  const pub = await connectAsync(url, { clientId: 'mes-publisher', reconnectPeriod: 0 });
  for (let i = 0; i < n; i++) await pub.publishAsync('mes/sealer-01/alarms', JSON.stringify({ code: 'E21', active: i % 2 === 0, seq: i }), { qos: 1 });
  await pub.publishAsync('mes/sealer-01/alarms', JSON.stringify({ sentinel: true }), { qos: 1 });
  await pub.endAsync();
}

/** Reconnects the session and counts what was kept for it, up to the sentinel (published last, so delivered last). */
async function drain(url: string): Promise<number> {
  let count = 0;
  let client: MqttClient | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sentinel not received; ${count} messages so far`)), 15_000);
    client = resume(url, (m) => {
      if (!m.sentinel) return void count++;
      clearTimeout(timer);
      resolve();
    });
  });
  await client?.endAsync();
  return count;
}

describe.skipIf(!hasMosquitto)('deploy/mosquitto.conf with a real mosquitto', () => {
  it('keeps all 1,500 QoS 1 alarms for the offline gateway, across a broker restart', async () => {
    const { dir, remove } = tempDir('andon-mosq-');
    try {
      const port = await freePort();
      const file = localConf(port, dir);
      const url = `mqtt://127.0.0.1:${port}`;
      let broker = await startBroker(file);
      const gw = await session(url);
      await gw.subscribeAsync('mes/+/alarms', { qos: 1 });
      await gw.endAsync();

      await publishWhileOffline(url, 1500);
      await stopBroker(broker);
      broker = await startBroker(file);
      expect(await drain(url)).toBe(1500);
    } finally {
      remove();
    }
  });

  it("with mosquitto's default queue limit instead, an outage of 1,500 alarms would lose 500", async () => {
    const { dir, remove } = tempDir('andon-mosq-');
    try {
      const port = await freePort();
      const file = localConf(port, dir, conf.replace(/^max_queued_messages 0$/m, '# default limit'));
      const url = `mqtt://127.0.0.1:${port}`;
      await startBroker(file);
      const gw = await session(url);
      await gw.subscribeAsync('mes/+/alarms', { qos: 1 });
      await gw.endAsync();
      await publishWhileOffline(url, 1499); // + the sentinel = 1500
      // The sentinel is among what the default limit drops: count up to a message sent after the reconnect instead.
      let count = 0;
      let markerSeen: () => void = () => {};
      const marker = new Promise<void>((resolve) => (markerSeen = resolve));
      const c = resume(url, (m) => (m.marker ? markerSeen() : void count++));
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      const pub = await connectAsync(url, { clientId: 'late-publisher', reconnectPeriod: 0 });
      await pub.publishAsync('mes/sealer-01/alarms', JSON.stringify({ marker: true }), { qos: 1 });
      await marker;
      await Promise.all([pub.endAsync(), c.endAsync()]);
      expect(count).toBe(1000);
    } finally {
      remove();
    }
  });
});
