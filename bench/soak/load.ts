/**
 * The soak's load: a child process of run.ts, so that its busy loop does not
 * delay the board clients' clocks. Telemetry of every analog tag over MQTT at
 * `rate`/s, normal alarm raises (cleared 5–60 s later), area bursts, and bad
 * inputs (bad.ts), over MQTT (QoS 1) and HTTP. Every alarm it sends is one JSON
 * line on stdout (`{"t":"a","n","tag","key","v","at","ch"}`; `n` is in the
 * signal's message as `soak#<n>`), HTTP answers `{"t":"h","ns","status"}`, bad
 * inputs `{"t":"b",...}`, telemetry counts `{"t":"tel",...}`, and `{"t":"done"}`.
 *
 *   node --import tsx bench/soak/load.ts '<json of LoadArgs>'
 */
import { connectAsync } from 'mqtt';
import { seeded } from '../../gateway/seeded.ts';
import { catalogue, type BadInput } from './bad.ts';
import type { SoakOptions } from './options.ts';
import { poisonTag, soakPlant, TOKENS, type SoakTag } from './plant.ts';

/** What the load child needs: the soak's options and where to send. */
export type LoadArgs = Pick<SoakOptions, 'tags' | 'rate' | 'alarmRate' | 'burstEveryMs' | 'burstSize' | 'badEveryMs' | 'poison' | 'durationMs' | 'seed'> & {
  mqttUrl: string;
  httpUrl: string;
};

const a = JSON.parse(process.argv[2] ?? '{}') as LoadArgs;
const p = soakPlant(a.tags);
const rng = seeded(a.seed);
const epoch = () => performance.timeOrigin + performance.now();
const emit = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const gauss = () => rng() + rng() + rng() + rng() - 2; // ~N(0, 0.58)
const timers = new Set<NodeJS.Timeout>();
const later = (ms: number, f: () => void) => {
  const t = setTimeout(() => {
    timers.delete(t);
    f();
  }, ms);
  timers.add(t);
};

const mqtt = await connectAsync(a.mqttUrl, { clientId: 'soak-load', clean: true, protocolVersion: 4, reconnectPeriod: 1000 });
let inflight = 0;
const publish = (topic: string, body: string, onDone?: (err?: Error) => void) => {
  inflight++;
  mqtt.publish(topic, body, { qos: 1 }, (err) => {
    inflight--;
    onDone?.(err ?? undefined);
  });
};

// HTTP: one request at a time, everything queued meanwhile in the next (order per tag holds).
const httpQueue: { n: number; body: object }[] = [];
let httpBusy = false;
const post = async (body: string): Promise<number | string> => {
  try {
    const res = await fetch(`${a.httpUrl}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'timeout' : `error: ${(err as Error).message}`;
  }
};
async function pumpHttp(): Promise<void> {
  if (httpBusy || httpQueue.length === 0) return;
  httpBusy = true;
  const batch = httpQueue.splice(0, 500);
  const status = await post(JSON.stringify(batch.map((b) => b.body)));
  emit({ t: 'h', ns: batch.map((b) => b.n), status });
  httpBusy = false;
  void pumpHttp();
}

// Alarms: every raise and clear gets a number, carried in its message.
let seq = 0;
const active = new Set<string>();
function alarm(t: SoakTag, value: boolean): void {
  const n = ++seq;
  const msg = `soak#${n}`;
  emit({ t: 'a', n, tag: t.tag, key: t.key, v: value, at: epoch(), ch: t.channel });
  if (value) active.add(t.tag);
  else active.delete(t.tag);
  if (t.channel === 'http') {
    httpQueue.push({ n, body: { tag: t.tag, value, ts: Date.now(), message: msg } });
    void pumpHttp();
    return;
  }
  publish(`plant/${t.asset.area}/${t.asset.name}`, JSON.stringify({ tag: t.tag, value, ts: Date.now(), msg }), (err) => {
    if (err) emit({ t: 'e', n, err: err.message });
  });
}
const raise = (t: SoakTag) => {
  if (active.has(t.tag)) alarm(t, false);
  alarm(t, true);
};
const clear = (t: SoakTag) => {
  if (active.has(t.tag)) alarm(t, false);
};

// Telemetry: the analog tags in turn, in 100 ms ticks; skipped (and counted) while the broker lags far behind.
const tel = { sent: 0, acked: 0, skipped: 0 };
let next = 0;
const telemetry = setInterval(() => {
  const due = Math.round(a.rate / 10);
  for (let i = 0; i < due; i++) {
    if (inflight > 20_000) {
      tel.skipped += due - i;
      break;
    }
    const t = p.analog[next++ % p.analog.length] as SoakTag;
    tel.sent++;
    publish(`plant/${t.asset.area}/${t.asset.name}`, JSON.stringify({ tag: t.tag, value: +(t.mean + t.sd * gauss()).toFixed(3), ts: Date.now() }), (err) => {
      if (!err) tel.acked++;
    });
  }
}, 100);
const telReport = setInterval(() => emit({ t: 'tel', ...tel, inflight }), 10_000);

// Normal alarms: a random quiet alarm tag, cleared 5-60 s later.
const normal =
  a.alarmRate > 0
    ? setInterval(() => {
        const t = pick(p.alarms);
        if (active.has(t.tag)) return;
        raise(t);
        later(5_000 + rng() * 55_000, () => clear(t));
      }, 1000 / a.alarmRate)
    : undefined;

// Bursts: one area at a time, `burstSize` raises within ~3 s (its alarm tags in turn), all cleared 30 s later.
const areas = [...p.alarmsByArea.keys()];
let burstNo = 0;
function burst(): void {
  const area = areas[burstNo++ % areas.length] as string;
  const list = p.alarmsByArea.get(area) ?? [];
  emit({ t: 'burst', area, size: a.burstSize, at: epoch() });
  const chunks = 60;
  for (let c = 0; c < chunks; c++) {
    later((c * 3000) / chunks, () => {
      for (let i = Math.floor((c * a.burstSize) / chunks); i < Math.floor(((c + 1) * a.burstSize) / chunks); i++) raise(list[i % list.length] as SoakTag);
    });
  }
  later(33_000, () => list.forEach(clear));
}
later(a.burstEveryMs / 2, function again() {
  if (a.burstSize > 0) burst();
  later(a.burstEveryMs, again);
});

// Bad inputs, round robin over the catalogue.
const poisonOf = { http: p.assets.filter((_, i) => i % 4 === 3), mqtt: p.assets.filter((_, i) => i % 4 !== 3) };
const firstAnalog = p.analog[0] as SoakTag;
const bad = catalogue({
  analogTag: firstAnalog.tag,
  analogValue: firstAnalog.mean,
  poison: a.poison,
  poisonTag: (ch) => poisonTag(pick(poisonOf[ch].length > 0 ? poisonOf[ch] : p.assets)),
});
let badNo = 0;
async function sendBad(b: BadInput): Promise<void> {
  if (b.channel === 'http') {
    const status = await post(b.body);
    emit({ t: 'b', ch: 'http', kind: b.kind, expect: b.expect, status });
    if (b.poisonTag)
      emit({ t: 'b', ch: 'http', kind: 'poison-clear', expect: 'accept', status: await post(JSON.stringify({ tag: b.poisonTag, value: false })) });
    return;
  }
  const topic = `plant/soak/bad`;
  publish(topic, b.body, (err) => emit({ t: 'b', ch: 'mqtt', kind: b.kind, expect: b.expect, status: err ? `error: ${err.message}` : 'published' }));
  if (b.poisonTag) publish(topic, JSON.stringify({ tag: b.poisonTag, value: false }));
}
const badTimer = setInterval(() => void sendBad((bad[badNo++ % bad.length] as () => BadInput)()), a.badEveryMs);

// The end: stop generating, let the queues empty, report.
await new Promise((r) => setTimeout(r, a.durationMs));
for (const t of [telemetry, telReport, normal, badTimer]) clearInterval(t);
for (const t of timers) clearTimeout(t);
const until = performance.now() + 120_000;
while ((inflight > 0 || httpQueue.length > 0 || httpBusy) && performance.now() < until) await new Promise((r) => setTimeout(r, 100));
emit({ t: 'tel', ...tel, inflight });
emit({ t: 'done', alarms: seq, inflight, httpQueued: httpQueue.length });
await mqtt.endAsync();
