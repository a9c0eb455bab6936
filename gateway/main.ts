import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { AndonConfig } from '../config/schema.ts';
import { startForwarding } from './forward/index.ts';
import { createSyncApplier } from './forward/sync.ts';
import { buildApp } from './http/app.ts';
import { startNotifications } from './notify/index.ts';
import { areasOf, createMetrics } from './metrics.ts';
import { createRuntime } from './runtime.ts';
import { startSources } from './sources.ts';
import { startActions } from './actions.ts';
import { TicketStore } from './store/store.ts';

export interface StartOptions {
  /** Override the config's http port (0 picks a free one). */
  port?: number;
  logger?: Logger;
  /** Time for rules, escalation, forwarding and notifications (tests pass a VirtualScheduler); default the wall clock. */
  scheduler?: SchedulerLike;
}

/**
 * Live mode: the same runtime as replay on the wall clock, the HTTP API, and
 * (in later versions) the connectors. Returns a handle whose `stop()` drains
 * and closes everything in bounded time.
 */
export async function startGateway(config: AndonConfig, opts: StartOptions = {}) {
  const log = opts.logger ?? pino({ name: 'andon', level: process.env.ANDON_LOG_LEVEL ?? 'info' });
  const store = await TicketStore.open(join(config.gateway.dataDir, 'andon.sqlite'));
  const registry = new Registry();
  const scheduler = opts.scheduler ?? asyncScheduler;
  const metrics = createMetrics(registry, store, {
    defaults: true,
    now: () => scheduler.now(),
    areas: areasOf(config),
  });
  const runtime = createRuntime({
    config,
    store,
    scheduler,
    expectedSources: config.sources.map((s) => s.id),
    onFailure: (cmd, err) => log.error({ component: 'engine', err, command: cmd.type }, 'a timer\'s ticket change could not be committed'),
    onRefused: (cmd, err) => {
      metrics.refused.inc({ code: err.code });
      log.warn({ component: 'engine', code: err.code, command: cmd.type }, err.message);
    },
  });
  metrics.watchHeld(() => runtime.held());
  const changes = runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
  const now = () => scheduler.now();
  const applier = createSyncApplier({ runtime, store, now, log, onResult: (r) => metrics.syncChanges.inc({ outcome: r.outcome }) });
  let forwarding: Awaited<ReturnType<typeof startForwarding>> | undefined;
  try {
    // Before listening: a forward config that cannot work (ANDON_FORWARD_SINK_UNAVAILABLE) stops the start.
    if (config.forward) forwarding = await startForwarding(config.forward, { store, runtime, scheduler, metrics, applier, log });
  } catch (err) {
    changes.unsubscribe();
    runtime.stop();
    await store.close();
    throw err;
  }
  // Queued notifications (also those of a previous run) go out from here on; HTTP is not needed for that.
  const notifying = Object.keys(config.notify).length > 0 ? startNotifications(config, { store, engine: runtime.engine, scheduler, metrics, log }) : undefined;
  // /readyz answers from the start (not ready) while the sources make their first attempt.
  const started: { sources?: Awaited<ReturnType<typeof startSources>> } = {};
  const app = buildApp({
    config,
    store,
    runtime,
    registry,
    metrics,
    now,
    ready: () => started.sources?.ready() ?? false,
    logger: log,
    applier,
    ...(forwarding ? { forwarder: forwarding.forwarder } : {}),
    ...(notifying ? { notifier: notifying.notifier } : {}),
  });
  let address: string;
  try {
    address = await app.listen({ host: config.gateway.http.host, port: opts.port ?? config.gateway.http.port });
  } catch (err) {
    await forwarding?.stop();
    await notifying?.stop();
    // A port that is taken must not leave the escalation timers and the store holding the process open.
    await app.close();
    changes.unsubscribe();
    runtime.stop();
    await store.close();
    throw err;
  }
  log.info({ component: 'http', address }, 'andon listening');
  const sources = await startSources(config, runtime, metrics, log);
  started.sources = sources;
  const actions = startActions(config.actions, runtime, store.liveTickets(), sources.connectors, log);

  let stopping: Promise<void> | undefined;
  return {
    address,
    store,
    runtime,
    app,
    sources,
    actions,
    forwarding,
    notifying,
    stop(): Promise<void> {
      stopping ??= (async () => {
        // Stop taking input first (connectors, then HTTP), then close the store.
        actions.stop();
        await sources.stop();
        await app.close();
        // Requests to central and messages in flight are aborted (each bounded); their rows stay for the next start.
        await Promise.all([forwarding?.stop(), notifying?.stop()]);
        changes.unsubscribe();
        runtime.stop();
        await store.close();
        log.info({ component: 'main' }, 'andon stopped');
      })();
      return stopping;
    },
  };
}
