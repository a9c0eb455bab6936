import { join } from 'node:path';
import { startCentral, type Central } from '../central/server.ts';
import { startMes, type Mes } from './mes.ts';
import { choosePort } from './ports.ts';
import { startPowerMeter, type PowerMeter } from './power-meter.ts';
import { startSealerPlc, type SealerPlc } from './sealer-plc.ts';
import { startWebhookReceiver, type Received, type WebhookReceiver } from './webhook.ts';

/** The demo's fixed ports, taken when free (else any free port). */
export const DEFAULT_PORTS = { opcua: 4840, modbus: 5020, mqtt: 1883, central: 9100, webhook: 9000 } as const;

export interface PlantOptions {
  /** Folder for the OPC UA server's PKI. */
  dir: string;
  /** `default`: DEFAULT_PORTS when free; `random`: any free ports. */
  ports?: 'default' | 'random';
  onNotification?: (m: Received) => void;
}

/** The whole demo plant in this process, every server on 127.0.0.1. */
export interface Plant {
  plc: SealerPlc;
  meter: PowerMeter;
  mes: Mes;
  central: Central;
  webhook: WebhookReceiver;
  stop(): Promise<void>;
}

/** Starts the plant's servers: OPC UA PLC, Modbus power meter, MQTT broker with the MES, central, webhook receiver. */
export async function startPlant(opts: PlantOptions): Promise<Plant> {
  const port = (p: number) => choosePort(opts.ports === 'random' ? 0 : p);
  const started: { stop(): Promise<void> }[] = [];
  const keep = <T extends { stop(): Promise<void> }>(x: T): T => (started.push(x), x);
  const stop = async () => {
    await Promise.allSettled(started.reverse().map((x) => x.stop()));
  };
  try {
    const plc = keep(await startSealerPlc({ port: await port(DEFAULT_PORTS.opcua), pkiDir: join(opts.dir, 'opcua-pki') }));
    const meter = keep(await startPowerMeter({ port: await port(DEFAULT_PORTS.modbus) }));
    const mes = keep(await startMes({ port: await port(DEFAULT_PORTS.mqtt) }));
    const central = keep(await startCentral({ port: await port(DEFAULT_PORTS.central) }));
    const webhook = keep(await startWebhookReceiver({ port: await port(DEFAULT_PORTS.webhook), onMessage: (m) => opts.onNotification?.(m) }));
    return { plc, meter, mes, central, webhook, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
