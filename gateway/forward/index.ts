import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import type { ForwardConfig } from '../../config/schema.ts';
import { AndonError } from '../../model/errors.ts';
import { redact } from '../redact.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import type { HistoryEvent } from '../../model/ticket.ts';
import { createForwarder } from './forwarder.ts';
import { createHttpSink } from './http-sink.ts';
import type { Sink } from './sink.ts';
import { startSyncPoller, type SyncApplier } from './sync.ts';

/** Defaults of the optional `forward` keys (config/schema.ts keeps them optional for sink literals). */
export const FORWARD_DEFAULTS = { backoff: { base: 1_000, max: 300_000 }, syncInterval: 30_000 } as const;

export interface SinkDeps {
  log?: Logger;
  fetch?: typeof fetch;
  /** A ticket's whole history from the store (the rt sink reads what RT lacks beyond a version's delta). */
  history?: (ticketId: string) => HistoryEvent[];
  /** This gateway's id (the nats sink's subjects). */
  gatewayId?: string;
  /** Loads the rt module (tests replace it to see a missing module handled). */
  loadRt?: () => Promise<unknown>;
}

type RtModule = { createRtSink?: (config: ForwardConfig, deps: SinkDeps) => Sink };

/**
 * The sink for `forward.type`. `rt` lives in ./rt/ and is loaded only when
 * configured, so an http-only gateway never depends on it; a missing or
 * broken rt module is an ANDON_FORWARD_SINK_UNAVAILABLE error, not a crash.
 */
export async function createSink(config: ForwardConfig, deps: SinkDeps = {}): Promise<Sink> {
  if (config.type === 'http') return createHttpSink({ ...config, url: config.url ?? '' }, deps.fetch ? { fetch: deps.fetch } : {});
  if (config.type === 'nats') {
    const { createNatsSink } = await import('./nats/index.ts');
    return createNatsSink(config, { gatewayId: deps.gatewayId ?? 'andon', ...(deps.log ? { log: deps.log } : {}), longestRetryMs: config.backoff?.max ?? FORWARD_DEFAULTS.backoff.max });
  }
  // A specifier in a variable: the type checker and bundlers do not follow it, so this file never needs ./rt.
  const rtPath = './rt/index.ts';
  let mod: RtModule;
  try {
    mod = (await (deps.loadRt ?? (() => import(rtPath)))()) as RtModule;
  } catch (err) {
    throw new AndonError('ANDON_FORWARD_SINK_UNAVAILABLE', `forward type rt: cannot load gateway/forward/rt (${(err as Error).message})`, { path: 'forward.type', cause: err });
  }
  if (typeof mod.createRtSink !== 'function') throw new AndonError('ANDON_FORWARD_SINK_UNAVAILABLE', 'forward type rt: gateway/forward/rt/index.ts exports no createRtSink', { path: 'forward.type' });
  return mod.createRtSink(config, { ...(deps.log ? { log: deps.log } : {}), ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.history ? { history: deps.history } : {}) });
}

export interface ForwardingDeps {
  store: TicketStore;
  runtime: Runtime;
  scheduler: SchedulerLike;
  metrics: Metrics;
  applier: SyncApplier;
  log: Logger;
  /** Tests and benches may inject a sink; otherwise `createSink(config)`. */
  sink?: Sink;
  /** This gateway's id (the nats sink's subjects). */
  gatewayId?: string;
}

/** Store-and-forward plus sync back, as `startGateway` runs them when `forward` is configured. */
export async function startForwarding(config: ForwardConfig, deps: ForwardingDeps) {
  const sink = deps.sink ?? (await createSink(config, { log: deps.log, history: (id) => deps.store.history(id), ...(deps.gatewayId ? { gatewayId: deps.gatewayId } : {}) }));
  // andon_forward_up{sink}: the sink can deliver (as far as it knows) and central answers (the circuit is closed).
  let circuitOpen = false;
  const showUp = () => deps.metrics.forwardUp.set({ sink: config.type }, !circuitOpen && (sink.state?.().up ?? true) ? 1 : 0);
  deps.metrics.forwardUp.reset();
  showUp();
  const forwarder = createForwarder({
    store: deps.store,
    sink,
    changes$: deps.runtime.engine.changes$,
    scheduler: deps.scheduler,
    concurrency: config.concurrency,
    backoff: { ...FORWARD_DEFAULTS.backoff, ...config.backoff },
    log: deps.log,
    onCircuit: (open) => {
      circuitOpen = open;
      showUp();
    },
  });
  // A sink that comes up again (nats: connected, stream found) is tried at once, not after the backoff.
  const unwatch = sink.onState?.((s) => {
    showUp();
    if (s.up) forwarder.wake();
  });
  sink.follow?.((changes) => void deps.applier.apply(changes, 'push'));
  const counted = forwarder.deliveries$.subscribe((d) => deps.metrics.forwardRequests.inc({ outcome: d.outcome }));
  forwarder.start();
  const poller = startSyncPoller({
    sink,
    applier: deps.applier,
    store: deps.store,
    scheduler: deps.scheduler,
    interval: config.syncInterval ?? FORWARD_DEFAULTS.syncInterval,
    cursorKey: `sync.cursor ${config.type} ${config.url ?? (config.servers ?? []).join(',')}`,
    log: deps.log,
  });
  deps.log.info({ component: 'forward', type: config.type, url: redact(config.url ?? (config.servers ?? []).join(',')), concurrency: config.concurrency }, 'forwarding tickets to central');
  return {
    forwarder,
    poller,
    sink,
    /** Stops polling and forwarding in bounded time (requests in flight are aborted and go again later). */
    async stop(): Promise<void> {
      await poller.stop();
      await forwarder.stop();
      counted.unsubscribe();
      unwatch?.();
      await sink.close?.();
    },
  };
}
