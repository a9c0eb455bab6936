/**
 * Consumer (a): a bare mqtt.js subscriber that only counts. A child process of
 * run.ts: subscribes with QoS 1, then prints one JSON line of progress every
 * 200 ms (and at once when `expect` messages have arrived):
 * `{ "count", "first", "last", "lag" }`: epoch-ms times of the first and last
 * message, and the longest event-loop delay since the previous line (ms).
 *
 * An optional `work` (µs) spins that long per message: a stand-in for a
 * consumer's own processing, to tell the receive loop's behaviour from Andon's.
 *
 *   node --import tsx bench/ingest/bare.ts <mqtt url> <topic filter> <expect> [work µs]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect } from 'mqtt';

const [url, filter, expectArg, workArg] = process.argv.slice(2);
if (!url || !filter || !expectArg) throw new Error('usage: bare.ts <mqtt url> <topic filter> <expect>');
const expect = Number(expectArg);
const workMs = Number(workArg ?? 0) / 1000;
const epoch = () => performance.timeOrigin + performance.now();

let count = 0;
let first = 0;
let last = 0;
// The longest event-loop delay since the previous report (as Andon's nodejs_eventloop_lag_max_seconds), ms.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const report = () => {
  process.stdout.write(JSON.stringify({ count, first, last, lag: delay.max / 1e6 }) + '\n');
  delay.reset();
};

const client = connect(url, { clientId: 'bench-bare', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
client.on('message', () => {
  const t = epoch();
  if (workMs > 0) for (const until = performance.now() + workMs; performance.now() < until;);
  if (count === 0) first = t;
  last = t;
  if (++count === expect) report();
});
client.on('error', (err) => {
  process.stderr.write(`bare subscriber: ${err.message}\n`);
  process.exit(1);
});
client.once('connect', () => {
  client.subscribe(filter, { qos: 1 }, (err) => {
    if (err) throw err;
    process.stdout.write('ready\n');
    setInterval(report, 200);
  });
});
process.once('SIGTERM', () => client.end(true, {}, () => process.exit(0)));
