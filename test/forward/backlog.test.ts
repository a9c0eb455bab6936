import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForwarder } from '../../gateway/forward/forwarder.ts';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { CONFIG, T0, tempDir } from './kit.ts';

/**
 * The backlog lives on disk, not in memory: 20,000 pending versions (4,000
 * tickets × 5) written while central is away survive a restart and drain
 * while the forwarder's heap stays flat. (bench/drain does 100,000.)
 * Central runs in its own process, so the heap measured is the gateway's.
 */
const root = join(import.meta.dirname, '..', '..');
const TICKETS = 4_000;
const VERSIONS = 5;

/** The live heap: after a full collection (gc exposed at runtime; vitest's workers start without --expose-gc). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

function startCentralProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sim/central/main.ts', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`central did not start: ${out}`)), 20_000);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /listening at (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string });
      }
    });
  });
}

describe('a large backlog', () => {
  let tmp: ReturnType<typeof tempDir>;
  let central: { child: ChildProcess; url: string };
  beforeAll(async () => {
    tmp = tempDir('backlog');
    central = await startCentralProcess();
  });
  afterAll(() => {
    central.child.kill('SIGTERM');
    tmp.remove();
  });

  it(`${TICKETS * VERSIONS} pending versions survive a restart and drain with flat memory`, { timeout: 120_000 }, async () => {
    // Central is away (no forwarder runs) while the plant makes 20k ticket versions.
    {
      const store = await TicketStore.open(tmp.file);
      const runtime = createRuntime({ config: CONFIG, store, scheduler: new VirtualScheduler(T0) });
      // One transaction around them all: the versions are the point here, not 20k fsyncs.
      store.transaction(() => {
        for (let v = 0; v < VERSIONS; v++) {
          for (let i = 0; i < TICKETS; i++) runtime.push({ source: 'plc', tag: `area-${i}/m-${i}/alarm/E1`, value: v % 2 === 0, quality: 'good', ts: T0 });
        }
      });
      expect(store.outboxPending()).toBe(TICKETS * VERSIONS);
      runtime.stop();
      await store.close();
    }

    // The restart: a new process would see the same file.
    const store = await TicketStore.open(tmp.file);
    expect(store.outboxPending()).toBe(TICKETS * VERSIONS);
    const clock = new VirtualScheduler(T0 + 60_000);
    const runtime = createRuntime({ config: CONFIG, store, scheduler: clock });
    const forwarder = createForwarder({ store, sink: createHttpSink({ url: central.url, timeout: 5_000 }), changes$: runtime.engine.changes$, scheduler: clock, concurrency: 8 });
    const heap: number[] = [];
    const base = liveHeap();
    let delivered = 0;
    const drained = new Promise<void>((resolve, reject) => {
      forwarder.deliveries$.subscribe((d) => {
        if (d.outcome !== 'ok') return reject(new Error(`unexpected ${d.outcome}: ${d.error}`));
        if (++delivered % 200 === 0) heap.push(liveHeap()); // every 5 % of the drain
        if (delivered === TICKETS) resolve();
      });
    });
    const t0 = performance.now();
    forwarder.start();
    await drained;
    const seconds = (performance.now() - t0) / 1000;
    await forwarder.stop();

    const stats = (await (await fetch(`${central.url}/stats`)).json()) as { puts: number; effective: number; duplicates: number };
    const growth = Math.max(...heap) - base;
    // After the first 5 % the HTTP client and the JIT are warm; from there a backlog held in memory would grow with progress.
    const trend = Math.max(...heap) - (heap[0] as number);
    console.info(
      `backlog test: ${TICKETS * VERSIONS} versions of ${TICKETS} tickets drained in ${seconds.toFixed(1)} s ` +
        `(${Math.round((TICKETS * VERSIONS) / seconds)} versions/s, ${Math.round(TICKETS / seconds)} tickets/s); ` +
        `${stats.puts} PUTs; live heap ${(base / 1e6).toFixed(1)} MB at start, +${((heap[0] as number - base) / 1e6).toFixed(2)} MB after 5 % (warm-up), ` +
        `at most +${(trend / 1e6).toFixed(2)} MB more over the rest (${heap.length} samples after gc)`,
    );
    expect(store.outboxPending()).toBe(0);
    expect(stats).toMatchObject({ puts: TICKETS, effective: TICKETS, duplicates: 0 }); // coalesced: one PUT per ticket
    expect(store.list({ limit: 1 }).items[0]?.central?.syncedVersion).toBe(VERSIONS);
    // 4,000 tickets with their history are ~20 MB as objects; a forwarder that held the backlog would show it.
    expect(heap.length).toBe(TICKETS / 200);
    expect(growth).toBeLessThan(12e6);
    expect(trend).toBeLessThan(2e6);
    runtime.stop();
    await store.close();
  });
});
