import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';

/** An MES alarm message as the plant's MES publishes it on `mes/<asset>/alarms`. */
export interface MesAlarm {
  code: string;
  active: boolean;
  text: string;
  severity: number;
}

/** A work-order status on `mes/<line>/workorder`. */
export interface WorkOrder {
  order: string;
  product: string;
  state: 'running' | 'paused' | 'done';
  good: number;
}

/**
 * The MES side: an in-process MQTT broker (aedes) on 127.0.0.1 and the MES
 * publishing JSON on it (QoS 1): work orders on `mes/<line>/workorder` and
 * alarms on `mes/<asset>/alarms`, each with an ISO `ts`.
 */
export interface Mes {
  url: string;
  port: number;
  publishAlarm(asset: string, alarm: MesAlarm, at: number): Promise<void>;
  publishWorkOrder(line: string, wo: WorkOrder, at: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startMes(opts: { port: number }): Promise<Mes> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(opts.port, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const url = `mqtt://127.0.0.1:${port}`;
  const client = await connectAsync(url, { clientId: 'demo-mes', reconnectPeriod: 1000 });
  const publish = async (topic: string, body: object) => void (await client.publishAsync(topic, JSON.stringify(body), { qos: 1 }));
  return {
    url,
    port,
    publishAlarm: (asset, alarm, at) => publish(`mes/${asset}/alarms`, { ...alarm, ts: new Date(at).toISOString() }),
    publishWorkOrder: (line, wo, at) => publish(`mes/${line}/workorder`, { ...wo, ts: new Date(at).toISOString() }),
    async stop() {
      await client.endAsync(true);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      // Clients still connected (the gateway, when the plant stops first) would hold close() open.
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
