import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, validateConfig } from '../../config/load.ts';
import type { AndonConfig } from '../../config/schema.ts';
import { fromRoot } from '../../gateway/package-root.ts';

export const DEMO_CONFIG = fromRoot('config', 'demo.yaml');

/** Where the demo plant actually listens (its default ports, or free ones when those were taken). */
export interface PlantAddresses {
  opcua: string;
  modbusPort: number;
  mqtt: string;
  central: string;
  webhook: string;
}

/** This machine's IANA timezone (TZ honoured), or UTC. */
export const systemTimezone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

type Loose = Record<string, unknown>;

/**
 * config/demo.yaml pointed at the running demo plant: the sources' endpoints,
 * the notify webhooks' and central's URLs are rewritten to where the plant
 * listens; `gateway.dataDir` is the demo's data dir and `gateway.timezone`
 * this machine's (unless ANDON_TIMEZONE says otherwise). Validated as any config.
 */
export function demoConfig(opts: { plant: PlantAddresses; dataDir: string; port: number; file?: string; env?: NodeJS.ProcessEnv }): AndonConfig {
  const file = opts.file ?? DEMO_CONFIG;
  const raw = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true }).toJS() as Loose;
  const gateway = raw.gateway as Loose;
  gateway.http = { ...(gateway.http as Loose), port: opts.port };
  for (const s of raw.sources as Loose[]) {
    if (s.type === 'opcua') s.endpoint = opts.plant.opcua;
    if (s.type === 'modbus') s.port = opts.plant.modbusPort;
    if (s.type === 'mqtt') s.url = opts.plant.mqtt;
  }
  for (const channel of Object.values((raw.notify ?? {}) as Record<string, Loose>)) {
    channel.url = String(channel.url).replace(/^https?:\/\/[^/]+/, opts.plant.webhook);
  }
  if (raw.forward) (raw.forward as Loose).url = opts.plant.central;
  const env = opts.env ?? process.env;
  const { config, problems } = validateConfig(raw, { ...env, ANDON_DATA_DIR: opts.dataDir, ANDON_TIMEZONE: env.ANDON_TIMEZONE || systemTimezone() });
  if (!config) throw new ConfigError(problems.map((p) => ({ ...p, message: `${file}: ${p.message}` })));
  return config;
}
