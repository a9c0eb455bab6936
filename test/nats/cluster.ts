import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { peer } from '../peers.ts';

/**
 * A real nats-server cluster on loopback (JetStream, file store in a temp dir) for tests and
 * bench:fleet. Cluster routes need fixed ports (port 0 cannot be given to peers), so free ports
 * are found by binding 127.0.0.1:0 first. Nodes can be SIGKILLed and restarted on the same ports.
 */
export const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server', 'nats-server'].find((p) => spawnSync(p, ['--version'], { stdio: 'ignore' }).status === 0) ?? 'nats-server';
export const hasNats = (): boolean => peer('nats-server', [NATS_SERVER, '--version'], 'apt-get install nats-server');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsNode {
  name: string;
  port: number;
  url: string;
  child: ChildProcess | undefined;
}

export interface NatsCluster {
  nodes: NatsNode[];
  servers: string[];
  dir: string;
  kill(i: number): Promise<void>;
  start(i: number): Promise<void>;
  stopAll(): Promise<void>;
  startAll(): Promise<void>;
  /** Resolves once JetStream answers API requests (a meta leader is elected). */
  ready(timeoutMs?: number): Promise<void>;
  connect(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  size?: number;
  /** Client user and password the servers require (none: no auth). */
  auth?: { user: string; password: string };
  maxPayload?: number;
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/**
 * Starts a cluster on free ports. A port found free can be taken by another test before nats-server binds
 * it (seen in CI: "bind: address already in use" on a route port while other test files ran): the cluster
 * is then started again on fresh ports, up to 5 times.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (err) {
      if (attempt >= 5 || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startClusterOnce(opts: ClusterOptions): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'andon-nats-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const nodes: NatsNode[] = ports.map((p, i) => ({ name: `n${i + 1}`, port: p.client, url: `nats://127.0.0.1:${p.client}`, child: undefined }));
  const files = ports.map((p, i) => {
    const file = join(dir, `n${i + 1}.conf`);
    mkdirSync(join(dir, `n${i + 1}`));
    const routes = ports.filter((_, j) => j !== i).map((q) => `nats://127.0.0.1:${q.route}`);
    writeFileSync(
      file,
      [
        `server_name: n${i + 1}`,
        `listen: 127.0.0.1:${p.client}`,
        ...(opts.maxPayload ? [`max_payload: ${opts.maxPayload}`] : []),
        `jetstream { store_dir: "${join(dir, `n${i + 1}`)}" }`,
        ...(size > 1 ? [`cluster { name: andon, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }`] : []),
        ...(opts.auth ? [`authorization { user: "${opts.auth.user}", password: "${opts.auth.password}" }`] : []),
      ].join('\n'),
    );
    return file;
  });

  async function start(i: number): Promise<void> {
    const node = nodes[i] as NatsNode;
    const child = spawn(NATS_SERVER, ['-c', files[i] as string], { stdio: ['ignore', 'ignore', 'pipe'] });
    node.child = child;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`nats-server ${node.name} did not start in 15 s: ${err}`)), 15_000);
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (err.length < 20_000) err += chunk;
        if (/Server is ready/.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`nats-server ${node.name} exited with ${code ?? sig}: ${err}`));
      });
    });
    child.stderr?.resume();
  }

  async function kill(i: number): Promise<void> {
    const c = nodes[i]?.child;
    if (!c) return;
    c.kill('SIGKILL');
    await exited(c);
    (nodes[i] as NatsNode).child = undefined;
  }

  const cluster: NatsCluster = {
    nodes,
    servers: nodes.map((n) => n.url),
    dir,
    kill,
    start,
    stopAll: async () => void (await Promise.all(nodes.map((_, i) => kill(i)))),
    startAll: async () => void (await Promise.all(nodes.map((_, i) => start(i)))),
    connect: () => connect({ servers: cluster.servers, ...(opts.auth ? { user: opts.auth.user, pass: opts.auth.password } : {}), reconnectTimeWait: 200, maxReconnectAttempts: -1 }),
    async ready(timeoutMs = 30_000): Promise<void> {
      const end = performance.now() + timeoutMs;
      const nc = await cluster.connect();
      try {
        for (;;) {
          try {
            const jsm = await jetstreamManager(nc, { timeout: 2_000 });
            await jsm.getAccountInfo();
            return;
          } catch (err) {
            if (performance.now() > end) throw new Error(`JetStream not ready in ${timeoutMs} ms: ${(err as Error).message}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      } finally {
        await nc.close();
      }
    },
    async stop(): Promise<void> {
      await cluster.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.startAll();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
