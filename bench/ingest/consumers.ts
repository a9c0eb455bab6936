/**
 * The consumers of the throughput run, each a child process behind one small
 * interface, and the publisher child: (a) bare.ts, (b) `andon start`, (c) Node-RED.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ingestConfig, metric, startAndon } from './andon.ts';
import { CLIENT_ID as NODERED_ID, startNodeRed } from './nodered.ts';
import { get } from './proc.ts';

export interface Progress {
  count: number;
  raises?: number;
  rejected?: number;
  /** Andon and bare: the longest event-loop delay since the previous report (prom-client resets it per scrape), ms. */
  lag?: number;
  /** Epoch ms of the last message counted, when the consumer reports it itself (bare, Node-RED). */
  last?: number;
}

export interface Consumer {
  pid: number;
  clientId: string;
  progress(): Promise<Progress | undefined>;
  /** After the run: what the consumer made of the stream (tickets, raises/clears). */
  outcome(): Promise<string>;
  stop(): Promise<void>;
}

export async function startBare(url: string, expect: number, workUs: string): Promise<Consumer> {
  const file = fileURLToPath(new URL('./bare.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file, url, 'plant/+/+/+', String(expect), workUs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let latest: Progress | undefined;
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare subscriber exited with ${code}`)));
    lines.on('line', (line) => (line === 'ready' ? resolve() : (latest = JSON.parse(line) as Progress)));
  });
  await ready;
  return {
    pid: child.pid as number,
    clientId: 'bench-bare',
    progress: async () => latest,
    outcome: async () => '',
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startAndonConsumer(dir: string, url: string, profileDir?: string, jsonata = false): Promise<Consumer> {
  const a = await startAndon(dir, (port) => ingestConfig({ dataDir: join(dir, 'data'), port, mqttUrl: url, jsonata }), profileDir ? { profileDir } : {});
  return {
    pid: a.pid,
    clientId: 'andon-plant-mqtt',
    async progress() {
      const text = await a.metrics();
      if (text === undefined) return undefined;
      return {
        count: metric(text, 'andon_signals_total', 'source="plant-mqtt"'),
        raises: metric(text, 'andon_tickets_opened_total'),
        rejected: metric(text, 'andon_signals_rejected_total'),
        lag: metric(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
      };
    },
    async outcome() {
      const text = await get(`${a.url}/api/v1/tickets?limit=1000`);
      if (!text) return 'tickets: (no answer)';
      const { items, total } = JSON.parse(text) as { items: { condition: string }[]; total: number };
      return `${total} tickets, ${items.filter((t) => t.condition === 'cleared').length} cleared`;
    },
    stop: a.stop,
  };
}

export async function startNodeRedConsumer(dir: string, port: number): Promise<Consumer> {
  const n = await startNodeRed(join(dir, 'node-red'), port);
  let last: Awaited<ReturnType<typeof n.stats>>;
  return {
    pid: n.pid,
    clientId: NODERED_ID,
    async progress() {
      last = await n.stats();
      return last && { count: last.count, raises: last.raises, last: last.last };
    },
    outcome: async () => (last ? `${last.raises} raises, ${last.clears} clears` : ''),
    stop: n.stop,
  };
}

/** Starts the publisher child (it generates the same stream); `go()` publishes it and resolves with the first publish and last PUBACK times. */
export interface Publisher {
  go(): Promise<{ t0: number; t1: number }>;
  stop(): Promise<void>;
}

export async function startPublisher(url: string, opts: { messages: number; excursions: string; window: number }): Promise<Publisher> {
  const file = fileURLToPath(new URL('./publisher.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file, url, String(opts.messages), opts.excursions, String(opts.window)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`publisher exited with ${code}`))));
  exited.catch(() => undefined);
  const next = () => Promise.race([once(lines, 'line').then(([l]) => l as string), exited]);
  if ((await next()) !== 'ready') throw new Error('publisher did not start');
  return {
    async go() {
      const done = next();
      child.stdin.write('go\n');
      return JSON.parse(await done) as { t0: number; t1: number };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      await gone;
    },
  };
}
