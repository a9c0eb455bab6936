// Requests and wall time per RT sink operation against the test RT (not a test):
//   npx tsx test/rt/measure.ts      (after test/rt/setup-rt.sh; starts RT if needed)
import { createRtSink } from '../../gateway/forward/rt/index.ts';
import { after, andonTicket, changed, forwarding, startRt, stopRt } from './peer.ts';

const { env, started } = await startRt();
const calls: { method: string; path: string; ms: number }[] = [];
const counting: typeof fetch = async (input, init) => {
  const t0 = performance.now();
  const res = await fetch(input, init);
  await res.clone().text();
  calls.push({ method: init?.method ?? 'GET', path: new URL(String(input)).pathname.replace('/REST/2.0/', ''), ms: performance.now() - t0 });
  return res;
};
const cfg = { type: 'rt' as const, url: env.RT_URL, token: env.RT_TOKEN, queue: env.RT_QUEUE, timeout: 10_000, concurrency: 4 };
const fw = forwarding();
const sink = fw.wrap(createRtSink(cfg, { fetch: counting, history: fw.history }));
const s = () => AbortSignal.timeout(20_000);
const rows: string[] = [];
async function step(name: string, f: () => Promise<unknown>, n = 5) {
  const walls: number[] = [];
  let reqs = 0;
  const before = calls.length;
  for (let i = 0; i < n; i++) {
    const c0 = calls.length;
    const t0 = performance.now();
    await f();
    walls.push(performance.now() - t0);
    reqs = calls.length - c0;
  }
  const per = calls.slice(before).map((c) => c.ms);
  walls.sort((a, b) => a - b);
  per.sort((a, b) => a - b);
  rows.push(`${name.padEnd(52)} requests ${reqs}  wall median ${walls[Math.floor(n / 2)]!.toFixed(0)} ms  per request median ${(per[Math.floor(per.length / 2)] ?? 0).toFixed(0)} ms`);
}
await sink.put(andonTicket(), s()); // preflight + first-create check
const tickets = Array.from({ length: 5 }, () => andonTicket());
let i = 0;
await step('put v1 (search + create)', () => sink.put(tickets[i++ % 5]!, s()));
i = 0;
await step('put same version again (cached)', () => sink.put(tickets[i++ % 5]!, s()));
const fresh = fw.wrap(createRtSink(cfg, { fetch: counting, history: fw.history }));
await fresh.put(tickets[0]!, s());
i = 0;
await step('put same version, new sink (search only)', () => fresh.put(tickets[i++ % 5]!, s()));
const v2 = tickets.map((t) => after(t, 'ack', 'wang'));
i = 0;
await step('put v2 with new events (PUT + comment + verify)', () => sink.put(v2[i++ % 5]!, s()));
const v3 = v2.map((t) => ({ ...t, version: t.version + 1, occurrences: 2 }));
i = 0;
await step('put v3 without new events (PUT + verify)', () => sink.put(v3[i++ % 5]!, s()));
const v4 = v3.map((t) => changed(t, {}, { action: 'occurrence' }));
const cold = fw.wrap(createRtSink(cfg, { fetch: counting, history: fw.history }));
await cold.put(andonTicket(), s());
i = 0;
await step('put v4, new sink (search + PUT + comment + verify)', () => cold.put(v4[i++ % 5]!, s()));
const { cursor } = await sink.changes!(null, s());
await step('changes() with nothing new', () => sink.changes!(cursor, s()));
console.log(rows.join('\n'));
if (started) await stopRt();
