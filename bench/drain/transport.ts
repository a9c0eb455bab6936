/**
 * `npm run bench:transport`: the CPU one PUT of a ticket costs the http sink (gateway/forward/http-sink.ts)
 * with its transport, node:http with keep-alive agents (gateway/delivery/node-fetch.ts), against the same
 * sink on Node's global fetch (undici), the transport it used before. Each client is its own process
 * that PUTs the same ticket `--requests` times with `--concurrency` in flight to one loopback server (this
 * process, which answers as central does) and reports its own CPU (process.cpuUsage), so the server's
 * share is not counted. The variants alternate, `--runs` times each; the medians and their ratio are the
 * figure.
 *
 *   npm run bench:transport [-- --runs 5] [--requests 5000] [--concurrency 8]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import { ticketDoc, ticketOf } from '../../test/ticket-fixture.ts';
import { fmt, median } from '../ingest/proc.ts';

type Variant = 'node:http' | 'fetch';
interface ClientResult {
  variant: Variant;
  requests: number;
  seconds: number;
  cpuUs: number;
}

async function client(url: string, variant: Variant, requests: number, concurrency: number): Promise<ClientResult> {
  const sink = createHttpSink({ url, token: 'bench', timeout: 10_000 }, variant === 'fetch' ? { fetch: globalThis.fetch } : {});
  const t = ticketOf(ticketDoc({ version: 3 }));
  const signal = new AbortController().signal;
  const once = async (n: number) => {
    for (let i = 0; i < n; i++) await sink.put({ ...t, version: t.version + i }, signal);
  };
  await once(200); // warm-up: connections, JIT
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let left = requests;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await sink.put(t, signal);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { variant, requests, seconds: (performance.now() - t0) / 1000, cpuUs: (cpu.user + cpu.system) / requests };
}

if (process.argv[2] === 'client') {
  const [url, variant, requests, concurrency] = process.argv.slice(3);
  const r = await client(url!, variant as Variant, Number(requests), Number(concurrency));
  process.send?.(r);
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    requests: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '8' },
  },
});
const runs = Number(args.runs);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    const version = Number((req.headers['idempotency-key'] as string | undefined)?.split(':').pop() ?? 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, url: `http://central/tickets/${id}`, version }));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const runClient = (variant: Variant) =>
  new Promise<ClientResult>((resolve, reject) => {
    const child = fork(import.meta.filename, ['client', url, variant, args.requests, args.concurrency], { execArgv: ['--import', 'tsx'] });
    child.once('message', (m) => resolve(m as ClientResult));
    child.once('exit', (code) => code !== 0 && reject(new Error(`client ${variant} exited with ${code}`)));
  });

const cpu = cpus();
console.log(
  `andon sink transport benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`${fmt(Number(args.requests))} PUTs of one ticket per run, concurrency ${args.concurrency}, loopback central in this process\n`);
const results: Record<Variant, ClientResult[]> = { 'node:http': [], fetch: [] };
for (let i = 0; i < runs; i++) {
  for (const v of ['node:http', 'fetch'] as const) {
    const r = await runClient(v);
    results[v].push(r);
    console.log(`run ${i + 1} ${v.padEnd(9)} ${fmt(r.requests / r.seconds).padStart(7)} PUTs/s, ${fmt(r.cpuUs, 1).padStart(6)} µs client CPU per PUT`);
  }
}
const med = (v: Variant, f: (r: ClientResult) => number) => median(results[v].map(f));
const cpuNode = med('node:http', (r) => r.cpuUs);
const cpuFetch = med('fetch', (r) => r.cpuUs);
const rateNode = med('node:http', (r) => r.requests / r.seconds);
const rateFetch = med('fetch', (r) => r.requests / r.seconds);
console.log(`\nmedians of ${runs}: node:http ${fmt(rateNode)} PUTs/s, ${fmt(cpuNode, 1)} µs CPU/PUT | fetch ${fmt(rateFetch)} PUTs/s, ${fmt(cpuFetch, 1)} µs CPU/PUT`);
console.log(`node:http / fetch: PUTs/s ${fmt(rateNode / rateFetch, 2)}×, CPU per PUT ${fmt(cpuNode / cpuFetch, 2)}×`);
server.close();
