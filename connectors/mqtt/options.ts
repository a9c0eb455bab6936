import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { AndonError } from '../../model/errors.ts';
import type { MqttSourceConfig } from './config.ts';

/** A logger that takes nothing: calling it allocates nothing. */
function silent(): void {}

/**
 * mqtt.js options of a source. MQTT 3.1.1 (every broker, aedes included) with a
 * persistent session (`clean: false`, stable client id), so QoS 1 messages
 * that arrive while the gateway is away, or that it did not acknowledge, are
 * kept by the broker and delivered on reconnect. Subscriptions are made by the
 * connector itself (`resubscribe: false`). TLS files are read here, so a
 * missing file is a config error thrown before connecting.
 */
export function clientOptions(config: MqttSourceConfig): IClientOptions {
  const read = (what: 'ca' | 'cert' | 'key'): Buffer | undefined => {
    const path = config.tls?.[what];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new AndonError('ANDON_MQTT_TLS_FILE', `mqtt source "${config.id}": cannot read tls.${what} "${path}": ${(err as Error).message}`, {
        path: `tls.${what}`,
        cause: err,
      });
    }
  };
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  return {
    clientId: config.clientId ?? `andon-${config.id}`,
    clean: false,
    protocolVersion: 4,
    resubscribe: false,
    reconnectPeriod: config.reconnectPeriod,
    reconnectOnConnackError: true,
    connectTimeout: config.connectTimeout,
    keepalive: Math.max(1, Math.round(config.keepalive / 1000)),
    queueQoSZero: false,
    // mqtt.js logs through `debug` unless given a logger: ~110 calls per client, a few per message, each
    // allocating its rest-args array even when disabled (a fifth of the bytes the gateway allocated under
    // 58k msg/s). Silent unless DEBUG is set, so DEBUG=mqttjs* still traces the client.
    ...(!process.env.DEBUG && { log: silent }),
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(key && { key }),
    ...(config.tls && { rejectUnauthorized: config.tls.rejectUnauthorized }),
  };
}
