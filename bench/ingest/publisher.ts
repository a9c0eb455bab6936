/**
 * The publisher: a child process of run.ts, so that its busy event loop does
 * not delay run.ts's progress polls. Generates the seeded stream (plant.ts),
 * connects, prints `ready`; on a line `go` on stdin publishes every message
 * with QoS 1, at most `window` awaiting their PUBACK, then prints
 * `{ "t0", "t1" }` (epoch ms of the first publish and of the last PUBACK).
 *
 *   node --import tsx bench/ingest/publisher.ts <mqtt url> <messages> <excursions> <window>
 */
import { createInterface } from 'node:readline';
import { connectAsync } from 'mqtt';
import { stream } from './plant.ts';

const [url, messages, excursions, windowArg] = process.argv.slice(2);
if (!url || !messages || !excursions || !windowArg) throw new Error('usage: publisher.ts <mqtt url> <messages> <excursions> <window>');
const WINDOW = Number(windowArg);
const s = stream({ messages: Number(messages), excursions: Number(excursions) });
const total = s.topics.length;
const epoch = () => performance.timeOrigin + performance.now();

const client = await connectAsync(url, { clientId: 'bench-publisher', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

const { t0, t1 } = await new Promise<{ t0: number; t1: number }>((resolve, reject) => {
  let next = 0;
  let acked = 0;
  let inflight = 0;
  const t0 = epoch();
  const pump = () => {
    while (inflight < WINDOW && next < total) {
      const i = next++;
      inflight++;
      client.publish(s.topics[i] as string, s.payloads[i] as Buffer, { qos: 1 }, (err) => {
        if (err) return reject(err);
        inflight--;
        if (++acked === total) resolve({ t0, t1: epoch() });
        else pump();
      });
    }
  };
  pump();
});
process.stdout.write(JSON.stringify({ t0, t1 }) + '\n');
await client.endAsync();
