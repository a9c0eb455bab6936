/** A live gateway (wall clock, SQLite file) reading one MQTT source from an in-process aedes broker, and a publisher: the real path. */
import { asyncScheduler } from 'rxjs';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { parseConfig } from '../../../config/load.ts';
import { startAedes, tempDir } from '../../../connectors/mqtt/fixtures/brokers.ts';
import { startGateway } from '../../../gateway/main.ts';
import { assertTicket, watchRuntime } from '../invariants.ts';

export interface MqttGateway {
  pub: MqttClient;
  gw: Awaited<ReturnType<typeof startGateway>>;
  /** Waits until ticket `key` opened, failing fast when the runtime holds changes (a poisoned runtime takes nothing more). */
  ticket(key: string, ms?: number): Promise<void>;
  /** assert() of the runtime watch: held() is 0, no ticket took a poison source time. */
  assert(): void;
  /** Refusals counted by andon_signals_rejected_total (by reason) and signals taken. */
  outcomes(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startMqttGateway(subscriptions: string, rules: string): Promise<MqttGateway> {
  const broker = await startAedes();
  const tmp = tempDir('andon-fuzz-');
  const config = parseConfig(`
gateway: { id: fuzz, dataDir: ${tmp.dir} }
sources:
  - id: mes
    type: mqtt
    url: ${broker.url}
    reconnectPeriod: 100ms
    subscriptions: ${subscriptions}
rules: ${rules}
correlation:
  chatter: { count: 100000, within: 1m }
  flood: { count: 100000, within: 1m, per: area }
`);
  const gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
  const pub = await connectAsync(broker.url, { reconnectPeriod: 100 });
  const watch = watchRuntime(gw.runtime, config, () => asyncScheduler.now());
  return {
    pub,
    gw,
    async ticket(key, ms = 10_000) {
      const until = performance.now() + ms;
      while (!gw.store.liveByKey(key)) {
        if (gw.runtime.held() > 0) watch.assert();
        if (performance.now() > until) throw new Error(`ticket ${key} did not open within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      assertTicket(gw.store, key);
    },
    assert: () => watch.assert(),
    async outcomes() {
      const text = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body;
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^andon_signals_rejected_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)$/gm)) out[`refused ${m[1]}`] = Number(m[2]);
      for (const m of text.matchAll(/^andon_signals_total\{[^}]*\} (\d+)$/gm)) out['signals taken'] = (out['signals taken'] ?? 0) + Number(m[1]);
      return out;
    },
    async close() {
      watch.stop();
      await pub.endAsync(true).catch(() => undefined);
      await gw.stop();
      await broker.close();
      tmp.remove();
    },
  };
}
