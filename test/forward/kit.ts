import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, timeout, type Observable } from 'rxjs';
import type { EventEmitter } from 'node:events';
import { parseConfig } from '../../config/load.ts';
import { createForwarder, type ForwarderDeps } from '../../gateway/forward/forwarder.ts';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import type { Sink } from '../../gateway/forward/sink.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { seeded } from '../../gateway/seeded.ts';
export { seeded };

export const T0 = Date.parse('2026-03-02T06:00:00Z');

/** One rule: any `<area>/<asset>/alarm/<code>` true opens (or adds to) the asset's ticket, false clears it. */
export const CONFIG = parseConfig(`
gateway: { id: forward-test }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`);

export function tempDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `andon-${prefix}-`));
  return { dir, file: join(dir, 'andon.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Gw {
  store: TicketStore;
  runtime: ReturnType<typeof createRuntime>;
  forwarder: ReturnType<typeof createForwarder>;
  clock: VirtualScheduler;
  /** Raises (true) or clears (false) the alarm of `asset` (its own area, so no flood folds them). */
  alarm(asset: string, value: boolean): void;
  /** The live ticket of `asset`. */
  ticket(asset: string): NonNullable<ReturnType<TicketStore['liveByKey']>>;
  /** Moves virtual time and runs the timers due. */
  advance(ms: number): void;
  /** Resolves once no request is in flight and every outcome is written. */
  quiet(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** A gateway core on virtual time forwarding to `url` (store file, runtime, http sink, forwarder; not started). */
export async function gateway(file: string, url: string, opts: Partial<ForwarderDeps> & { start?: number; sink?: Sink } = {}): Promise<Gw> {
  const store = await TicketStore.open(file);
  const clock = new VirtualScheduler(opts.start ?? T0);
  const runtime = createRuntime({ config: CONFIG, store, scheduler: clock });
  const sink = opts.sink ?? createHttpSink({ url, timeout: 2_000 }, { now: () => clock.now() });
  const forwarder = createForwarder({ store, sink, changes$: runtime.engine.changes$, scheduler: clock, concurrency: 4, random: seeded(7), ...opts });
  const gw: Gw = {
    store,
    runtime,
    forwarder,
    clock,
    alarm: (asset, value) => runtime.push({ source: 'plc', tag: `area-${asset}/${asset}/alarm/E1`, value, quality: 'good', ts: clock.now() }),
    ticket: (asset) => {
      const t = store.liveByKey(`${asset}/alarm-stop`);
      if (!t) throw new Error(`no ticket for ${asset}`);
      return t;
    },
    advance: (ms) => clock.advanceTo(clock.now() + ms),
    quiet: async (ms = 5_000) => {
      await new Promise((r) => setImmediate(r));
      while (forwarder.inFlight() > 0) await next(forwarder.deliveries$, () => true, ms);
    },
    close: async () => {
      await forwarder.stop();
      runtime.stop();
      await store.close();
    },
  };
  return gw;
}

/** The next value of `source` that passes `test`, or a rejection after `ms`. */
export const next = <T>(source: Observable<T>, test: (v: T) => boolean, ms = 5_000): Promise<T> => firstValueFrom(source.pipe(filter(test), timeout(ms)));

/** Resolves when `check()` holds, looking again on every `event` of `emitter`; rejects after `ms`. */
export function when<E extends EventEmitter>(emitter: E, event: string, check: () => boolean, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const look = () => {
      if (!check()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`condition not met within ${ms} ms (waiting on "${event}")`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, look);
    };
    emitter.on(event, look);
    look();
  });
}
