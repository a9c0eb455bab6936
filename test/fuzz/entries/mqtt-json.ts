/** MQTT JSON payloads through a real broker into the connector's JSON mapping and the runtime. */
import { asyncScheduler } from 'rxjs';
import { hasPoisonTime, mutate, mutateBytes, parseJson, toText, type Json, type Rng } from '../gen.ts';
import type { Entry } from '../harness.ts';
import { hostileJson } from './http.ts';
import { startMqttGateway } from './mqtt-gateway.ts';

const SUBSCRIPTIONS = `
      - { topic: "mes/+/alarms", qos: 1, tag: "line/{1}/alarm/{code}", value: "$.active", ts: "$.ts", asset: "{1}", severity: "$.sev", message: "$.text", quality: "$.q" }
      - { topic: "raw/#", qos: 0 }`;
const RULES = `
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
  - { id: temps, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P2 }`;
const FIELDS = ['code', 'active', 'ts', 'sev', 'text', 'q'];

const validAlarm = (rng: Rng, now: number): Record<string, Json> => {
  const m: Record<string, Json> = { code: `E${rng.int(30)}`, active: rng.chance(0.5) };
  if (rng.chance(0.7))
    m.ts = rng.pick<() => Json>([() => now - rng.int(60_000), () => new Date(now - rng.int(60_000)).toISOString(), () => String(now - rng.int(60_000))])();
  if (rng.chance(0.3)) m.sev = 1 + rng.int(1000);
  if (rng.chance(0.3)) m.text = 'seal jaw fault';
  if (rng.chance(0.3)) m.q = rng.pick<Json>(['good', 'bad', 192, 0, true]);
  return m;
};

export const mqttJsonEntry = (): Entry => {
  // Payloads are generated against the time the run starts; a poison time is far from any moment of the run.
  const now = asyncScheduler.now();
  return {
    name: 'mqtt-json',
    generate(rng) {
      const raw = rng.chance(0.2);
      const topic = raw ? `raw/line-${rng.int(3)}/press-${rng.int(5)}/temperature` : `mes/press-${rng.int(5)}/alarms`;
      let data: string | Buffer;
      let kind: string;
      if (raw) {
        const k = rng.int(3);
        const m = k === 0 ? mutate(rng, { value: 85 }, ['value'], [], now) : undefined;
        data = m
          ? toText(m.value)
          : k === 1
            ? mutateBytes(rng, Buffer.from('85')).data
            : toText(rng.pick<Json>([85, '85', true, null, [85, 86], { value: [1] }]));
        kind = `raw ${m ? m.op : k === 1 ? 'bytes' : 'scalar'}`;
      } else ({ text: data, kind } = hostileJson(rng, () => validAlarm(rng, now), FIELDS, ['ts'], now));
      return { kind, data, poison: !raw && hasPoisonTime(parseJson(data), ['ts'], now), meta: { topic } };
    },
    async start() {
      const m = await startMqttGateway(SUBSCRIPTIONS, RULES);
      return {
        send(p) {
          // QoS 0 and not awaited: the check's QoS 1 message after them arrives after all of them.
          m.pub.publish(p.meta?.topic ?? 'mes/x/alarms', typeof p.data === 'string' ? Buffer.from(p.data) : p.data, { qos: 0 });
          return 'published';
        },
        async check(n) {
          await m.pub.publishAsync(`mes/chk-${n}/alarms`, JSON.stringify({ code: 'E1', active: true }), { qos: 1 });
          await m.ticket(`chk-${n}/alarm-stop`);
          m.assert();
        },
        outcomes: () => m.outcomes(),
        close: () => m.close(),
      };
    },
  };
};
